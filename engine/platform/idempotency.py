"""Idempotent requests (DESIGN.md "Operations"): a client sends `Idempotency-Key`; the first successful answer is
kept with the request's changes, in the same transaction, and a retry with the same key and the same request gets
that answer again. The same key with a different request is refused. Keys are per user and kept for a day."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.records.idempotency import IdempotencyKey

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as UUIDs and random tokens are


@dataclass(frozen=True)
class StoredAnswer:
    """The answer given the first time: status, JSON body and Location header."""

    status: int
    body: str
    location: str | None


def check_key(key: str) -> None:
    """Refuse keys that cannot be stored as sent.

    :raises InvalidInputError: empty, longer than 255 or not visible ASCII (field `Idempotency-Key`).
    """
    if not KEY_PATTERN.match(key):
        raise InvalidInputError(f"bad {HEADER} header", {HEADER: "1–255 visible ASCII characters (e.g. a UUID)"})


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 of the request: method, path and the body (JSON compared by value, not by spacing or key order)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode("utf-8")
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode("utf-8") + b"\n" + canonical).hexdigest()


def find_answer(session: Session, user_id: int, key: str, request_fingerprint: str) -> StoredAnswer | None:
    """The answer stored under this user's key, or None when the key is new (or older than KEEP).

    :raises InvalidInputError: the key was used for a different request (field `Idempotency-Key`).
    """
    row = session.scalars(
        sa.select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key, IdempotencyKey.created_at >= utcnow() - KEEP
        )
    ).first()
    if row is None:
        return None
    if row.fingerprint != request_fingerprint:
        raise InvalidInputError(
            f"this {HEADER} was used for a different request",
            {HEADER: "already used with another body or URL; send a new key for a new request"},
        )
    return StoredAnswer(status=row.status, body=row.body, location=row.location)


def remember_answer(session: Session, user_id: int, key: str, request_fingerprint: str, answer: StoredAnswer) -> None:
    """Keep the answer under the key in the caller's transaction (keys past KEEP are dropped on the way).

    A concurrent request with the same key fails on the unique (user, key) constraint at flush or commit, and its
    whole transaction rolls back: nothing is created twice.
    """
    session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEEP))
    session.add(
        IdempotencyKey(
            user_id=user_id,
            key=key,
            fingerprint=request_fingerprint,
            status=answer.status,
            body=answer.body,
            location=answer.location,
            created_at=utcnow(),
        )
    )
    session.flush()
