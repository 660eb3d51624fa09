"""Flask application factory: configuration, security settings, database session per request, blueprints."""

from __future__ import annotations

import gc
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.config import Settings
from engine.config import load_settings
from web import i18n
from web import params
from web import security
from web.context import AppContext


def create_app(test_config: Mapping[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the app; `test_config` overrides Flask config, `settings` overrides the engine settings."""
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.home))
    app.json = security.BoundedJSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key or _dev_secret(settings),
        SESSION_COOKIE_NAME="__Host-session",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        SESSION_REFRESH_EACH_REQUEST=True,
        MAX_CONTENT_LENGTH=settings.attachment_max_bytes + 64 * 1024,
        MAX_FORM_MEMORY_SIZE=500_000,
        MAX_FORM_PARTS=1000,
        WTF_CSRF_ENABLED=True,
        WTF_CSRF_TIME_LIMIT=3600,
        WTF_CSRF_SSL_STRICT=True,
        PROPAGATE_EXCEPTIONS=False,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    if settings.proxy_hops:  # behind N trusted proxies: the client address and scheme come from their headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)  # type: ignore[method-assign]
    params.install(app.url_map)
    AppContext.install(app, settings)
    security.init_app(app)
    i18n.init_app(app)
    _register_blueprints(app)
    return app


def _dev_secret(settings: Settings) -> str:
    """A per-installation random key kept under the home folder when AFTERSALES_SECRET_KEY is not set."""
    path = settings.home / "secret_key"
    if not path.exists():
        settings.home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _register_blueprints(app: Flask) -> None:
    from web import auth
    from web import errors
    from web import health
    from web.api import bp as api_bp
    from web.views import cases
    from web.views import records
    from web.views import tasks

    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(records.bp)
    from web.views import dashboard
    from web.views import notices
    from web.views import processes

    app.register_blueprint(notices.bp)
    from web.views import portal
    from web.views import requests

    app.register_blueprint(portal.bp)
    app.register_blueprint(requests.bp)

    app.register_blueprint(processes.bp)

    app.register_blueprint(dashboard.bp)
    from web.views import monitor

    app.register_blueprint(monitor.bp)
    from web.views import designer

    app.register_blueprint(designer.bp)
    from web.views import admin

    app.register_blueprint(admin.bp)
    app.register_blueprint(api_bp)
    errors.init_app(app)


def ready_to_serve(app: Flask) -> None:
    """Parse the latest deployed version of every process, then take everything built so far (the app, the mappers,
    the parsed models) out of the garbage collector's walks: it lives as long as the process, and walking its
    ~170,000 objects made each full collection stall one request for 0.1–0.4 s (issue 12). `serve` calls this."""
    from engine.platform.definitions import list_versions
    from engine.platform.definitions import parsed_bundle

    with app.extensions["aftersales"].sessions() as session:
        latest: dict[str, Any] = {}
        for version in list_versions(session):  # newest first within each process
            latest.setdefault(version.process_id, version)
        for version in latest.values():
            parsed_bundle(session, version)
    gc.collect()
    gc.freeze()
