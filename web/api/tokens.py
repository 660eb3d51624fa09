"""POST /api/v1/auth/token: exchange a user name and password for a Bearer token; POST /api/v1/auth/revoke: end it."""

from __future__ import annotations

from flask import g
from flask import jsonify
from werkzeug.wrappers import Response

from engine.errors import InvalidInputError
from engine.platform import sign_in
from engine.platform import users
from engine.platform.timeline import log_event
from web.api import bp
from web.api.common import caller
from web.api.common import json_body
from web.api.common import unauthorized
from web.auth import client_address
from web.context import db
from web.errors import error_body


@bp.post("/auth/token")
def issue_token() -> tuple[Response, int] | Response:
    """Check the credentials (throttled per account and address, apart from the web sign-in) and issue a token."""
    body = json_body()
    username = body.get("username") if isinstance(body, dict) else None
    password = body.get("password") if isinstance(body, dict) else None
    if not isinstance(username, str) or not isinstance(password, str):
        raise InvalidInputError(
            "username and password are required",
            {
                k: "required text"
                for k in ("username", "password")
                if not isinstance(body.get(k) if isinstance(body, dict) else None, str)
            },
        )
    wait = sign_in.seconds_to_wait(db(), "api", username, client_address())
    if wait:
        response = jsonify(error_body("too_many_attempts", f"too many failed sign-ins; try again in {wait} seconds"))
        response.headers["Retry-After"] = str(wait)
        return response, 429
    user = users.authenticate(db(), username, password)
    if user is None:
        sign_in.record_failure(db(), "api", username, client_address())
        log_event(db(), "auth.login_failed", actor=username[:64] or "-", data={"ip": client_address(), "via": "api"})
        db().commit()
        return unauthorized("wrong user name or password")
    sign_in.clear_failures(db(), "api", username)
    token = users.open_session(db(), user, "api")
    log_event(db(), "auth.token_issued", actor=user.username)
    db().commit()
    return jsonify(
        {
            "token": token,
            "token_type": "Bearer",
            "expires_in": int(users.LIFETIME["api"].total_seconds()),
            "username": user.username,
            "roles": sorted(user.role_keys),
        }
    )


@bp.post("/auth/revoke")
def revoke_token() -> Response:
    """Revoke the Bearer token of this request at once (an integration signing out); it is refused from now on."""
    users.revoke_session(db(), g.api_token)
    log_event(db(), "auth.token_revoked", actor=caller().username, data={"ip": client_address()})
    db().commit()
    return jsonify({"revoked": True})
