"""Chinese-first bilingual UI: zh_Hans_CN by default, English on request (?lang=en or the language switch)."""

from __future__ import annotations

from flask import Flask
from flask import request
from flask import session
from flask_babel import Babel

LOCALES = ("zh_Hans_CN", "en")
DEFAULT_LOCALE = "zh_Hans_CN"


def select_locale() -> str:
    """The locale chosen in the session, else the browser's preference among ours, else Chinese."""
    chosen = session.get("lang")
    if chosen in LOCALES:
        return str(chosen)
    best = request.accept_languages.best_match(["zh", "zh_CN", "en"])
    return "en" if best == "en" else DEFAULT_LOCALE


def current_lang() -> str:
    """Short language key for templates and form labels ('zh' or 'en')."""
    return "en" if select_locale() == "en" else "zh"


def init_app(app: Flask) -> None:
    """Install Flask-Babel with our selector and expose `lang` to templates."""
    Babel(
        app,
        locale_selector=select_locale,
        default_locale=DEFAULT_LOCALE,
        default_translation_directories="translations",
    )
    app.jinja_env.globals["current_lang"] = current_lang
