"""Security headers on every response and CSRF for every browser form (reliability.md §6.3)."""

from __future__ import annotations

from flask import Flask
from flask import Response
from flask import g
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def init_app(app: Flask) -> None:
    """Enable CSRF protection and the header hook."""
    csrf.init_app(app)
    app.after_request(_headers)


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    if g.get("user") is not None:
        headers["Cache-Control"] = "no-store"
    return response
