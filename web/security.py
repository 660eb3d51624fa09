"""Security headers on every response, CSRF for every browser form (reliability.md §6.3), and stored files served as
downloads only."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


DOWNLOAD_CSP = "default-src 'none'; sandbox"
# An attachment previewed inside our own pages: images (<img>) and PDFs (a same-origin frame, which the browser's PDF
# viewer shows; it refuses sandboxed frames, so these carry no sandbox but may run nothing and load nothing).
PREVIEW_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})
PREVIEW_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def as_download(body: bytes | str, filename: str, mimetype: str) -> Response:
    """A stored file (BPMN, DMN, form, bundle) as a download that the browser never renders inline (no stored XSS
    through an uploaded diagram); scripts fetch it all the same."""
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = attachment_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body nested past the parser's recursion limit is bad JSON (a ValueError, which
    `get_json` turns into None or a 400) instead of a RecursionError and a 500 (found outside-in: 2,000 `[` sent to
    the sign-in endpoint, which anyone may call)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None


def attachment_disposition(filename: str) -> str:
    """`attachment` with the file's name: plain ASCII for old clients and RFC 6266's UTF-8 form for the rest, so a
    Chinese file name (设备报修.bpmn) downloads under its name instead of failing the header's latin-1 (a 500).
    Hand-written because Werkzeug builds this header only inside `send_file`, for files on disk; `Headers.set` with
    `filename=` quotes but does not encode."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def as_preview(response: Response) -> Response:
    """A checked PDF or image shown inline in our own pages (never as a page of its own elsewhere)."""
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


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
    headers.setdefault("X-Frame-Options", "DENY")  # an attachment preview allows our own pages to frame it
    if g.get("user") is not None:
        headers["Cache-Control"] = "no-store"
    return response
