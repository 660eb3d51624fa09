"""HTTP API v1 (DESIGN.md "HTTP API v1"): JSON over HTTP with Bearer tokens; CSRF does not apply (no cookies)."""

from __future__ import annotations

from flask import Blueprint
from flask import g
from flask import request
from werkzeug.wrappers import Response

from engine.platform import users
from web.api.common import unauthorized
from web.context import db
from web.context import is_read_request
from web.security import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

PUBLIC_ENDPOINTS = frozenset({"api.issue_token", "api.openapi"})


@bp.before_request
def authenticate() -> tuple[Response, int] | None:
    """Every call except token issue and the OpenAPI document needs `Authorization: Bearer <token>`."""
    g.user = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return unauthorized("send Authorization: Bearer <token> (POST /api/v1/auth/token)")
    g.api_token = token.strip()
    g.user = users.resolve_session(db(), g.api_token, "api", touch=not is_read_request())
    if g.user is None:
        return unauthorized("the token is invalid, expired or revoked")
    return None


from web.api import archives  # noqa: E402,F401  (routes register on bp)
from web.api import cases  # noqa: E402,F401
from web.api import claims  # noqa: E402,F401
from web.api import definitions  # noqa: E402,F401
from web.api import instances  # noqa: E402,F401
from web.api import master_data  # noqa: E402,F401
from web.api import openapi  # noqa: E402,F401
from web.api import processes  # noqa: E402,F401
from web.api import records  # noqa: E402,F401
from web.api import returns  # noqa: E402,F401
from web.api import tasks  # noqa: E402,F401
from web.api import tokens  # noqa: E402,F401
from web.api import work_orders  # noqa: E402,F401
