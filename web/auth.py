"""Sign-in with server-side revocable sessions (cookie carries only a random token), and role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from typing import TypeVar
from typing import cast
from urllib.parse import urlsplit

from flask import Blueprint
from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.platform import sign_in
from engine.platform import users
from engine.platform.timeline import log_event
from engine.records.user import User
from web.context import db
from web.context import is_read_request
from web.context import try_write
from web.i18n import LOCALES

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])
MAX_NEXT = 2048
SESSIONLESS_BLUEPRINTS = ("api", "health")  # Bearer tokens; health checks never touch the session store


@bp.before_app_request
def load_user() -> None:
    """Resolve the browser session token to a live user (API requests authenticate with Bearer tokens instead)."""
    g.user = None
    if request.blueprint in SESSIONLESS_BLUEPRINTS:
        return
    token = session.get("sid")
    if isinstance(token, str):
        reading = is_read_request()  # a GET's session is read-only: its touch is a separate, non-waiting write
        g.user = users.resolve_session(db(), token, "web", touch=not reading)
        if g.user is None:
            session.pop("sid", None)
        elif reading and users.touch_due(db(), token):
            try_write(lambda write: users.touch_session(write, token))
        elif not reading:
            db().commit()


def current_user() -> User:
    """The signed-in user (only call behind login_required)."""
    user: User = g.user
    return user


def login_required(view: F) -> F:
    """Redirect anonymous visitors to the sign-in page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow the view only to users holding one of `roles` (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if not current_user().role_keys.intersection(roles):
                abort(403)
            return view(*args, **kwargs)

        return login_required(cast(F, wrapped))

    return decorator


@bp.get("/login")
def login() -> str:
    """The sign-in form."""
    target = request.args.get("next", "")
    return render_template("auth/login.html", next=target if is_local_path(target) else "")


@bp.post("/login")
def login_submit() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Check the password (throttled per account and address), rotate the session and store a server-side token."""
    username = request.form.get("username", "").strip()
    target = request.form.get("next", "")
    wait = sign_in.seconds_to_wait(db(), "web", username, client_address())
    if wait:
        db().rollback()
        minutes = -(-wait // 60)
        flash(_("Too many failed sign-ins. Please wait %(minutes)d minute(s) and try again.", minutes=minutes), "error")
        page = render_template("auth/login.html", next=target, username=username)
        return page, 429, {"Retry-After": str(wait)}
    user = users.authenticate(db(), username, request.form.get("password", ""))
    if user is None:
        sign_in.record_failure(db(), "web", username, client_address())
        log_event(db(), "auth.login_failed", actor=username[:64] or "-", data={"ip": client_address(), "via": "web"})
        db().commit()
        flash(_("Wrong user name or password."), "error")
        return render_template("auth/login.html", next=target, username=username), 401
    sign_in.clear_failures(db(), "web", username)
    lang = session.get("lang")
    session.clear()
    session["sid"] = users.open_session(db(), user, "web")
    if lang:
        session["lang"] = lang
    session.permanent = True
    log_event(db(), "auth.login", actor=user.username)
    db().commit()
    return redirect(safe_next(target))


@bp.post("/logout")
def logout() -> Response:
    """Revoke the server-side session, then forget the cookie."""
    token = session.get("sid")
    if isinstance(token, str):
        users.revoke_session(db(), token)
        db().commit()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/lang/<code>")
def switch_language(code: str) -> Response:
    """Switch the UI language for this browser."""
    if code in LOCALES:
        session["lang"] = code
    return redirect(safe_next(request.form.get("next", "")))


def client_address() -> str:
    """The caller's address (the proxy's X-Forwarded-For only when AFTERSALES_PROXY_HOPS trusts it)."""
    return request.remote_addr or "-"


def safe_next(target: str | None, default: str | None = None) -> str:
    """Follow only same-site paths (no open redirect); otherwise `default` or the inbox.

    Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so `next=/%09/evil.example` or
    `next=/%5Cevil.example` would leave the site: any control character or backslash is refused, the path must
    start with exactly one slash, and it must parse without a scheme or host.
    """
    if target is not None and is_local_path(target):
        return target
    return default or url_for("tasks.inbox")


def is_local_path(target: str | None) -> bool:
    """True for a path on this site that every browser resolves to this site."""
    if not target or len(target) > MAX_NEXT or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
