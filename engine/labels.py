"""`N_` marks English labels kept beside the enums they name, for message extraction (`pybabel -k N_`); the web
translates them when it shows them. The engine itself never translates (it knows no request language)."""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - the gettext convention for "no-op, extract me"
    """Return `text` unchanged; the call marks it for the translation catalog."""
    return text
