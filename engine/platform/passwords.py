"""Password rules after NIST SP 800-63B: long enough, not a common password, not the user name; no composition
rules and no forced rotation. The common passwords ship with the package (data/common-passwords.txt, 8,354 entries
of 8+ characters; source and licence in data/common-passwords.NOTICE)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

MIN_LENGTH = 8
MAX_LENGTH = 256
CONTEXT_WORDS = frozenset({"aftersales", "aftersales-bpm", "aftersalesbpm", "售后服务", "售后服务管理"})


@cache
def common_passwords() -> frozenset[str]:
    """The deny-list, lower-cased."""
    text = files("engine.platform").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def password_problem(password: str, username: str) -> str | None:
    """Why `password` may not be used by `username`, or None when it may."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    folded = password.strip().lower()
    if folded == username.strip().lower():
        return "must not be the user name"
    if folded in common_passwords() or folded in CONTEXT_WORDS:
        return "is one of the most common passwords; choose another"
    return None
