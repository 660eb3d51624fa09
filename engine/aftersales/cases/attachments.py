"""Attachments on a CSI (§4.3 written customer feedback): type checked by magic bytes, stored under generated names."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from pathlib import Path

import filetype
import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.timeline import log_event
from engine.records.attachment import Attachment
from engine.records.csi import CSI

ATTACHMENT_KINDS = ("customer_feedback", "photo", "document", "signed_review")
# extension -> content type; binary types must match their magic bytes, text must be clean UTF-8
ALLOWED_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "txt": "text/plain",
}


def safe_filename(name: str) -> str:
    """A display name without paths, control or bidi characters, at most 120 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    return cleaned[-120:] or "attachment"


def add_attachment(
    session: Session, folder: Path, csi: CSI, *, filename: str, data: bytes, kind: str, actor: str, note: str = ""
) -> Attachment:
    """Check and store one file for a CSI, with a timeline entry.

    :raises InvalidInputError: empty file, unknown kind, type not allowed or content not matching the extension.
    """
    name = safe_filename(filename)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    content_type = _checked_type(extension, data, kind)
    folder.mkdir(parents=True, exist_ok=True)
    storage_name = secrets.token_hex(16)
    (folder / storage_name).write_bytes(data)
    attachment = Attachment(
        csi_id=csi.id,
        kind=kind,
        filename=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_name=storage_name,
        uploaded_by=actor,
        uploaded_at=utcnow(),
        note=note[:500],
    )
    session.add(attachment)
    log_event(
        session, "attachment.added", actor=actor, csi_id=csi.id, message=name, data={"kind": kind, "size": len(data)}
    )
    return attachment


def check_file(filename: str, data: bytes, kind: str) -> tuple[str, str]:
    """The safe display name and checked content type of a file, before anything is stored (the public request page).

    :raises InvalidInputError: as `add_attachment`.
    """
    name = safe_filename(filename)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return name, _checked_type(extension, data, kind)


def _checked_type(extension: str, data: bytes, kind: str) -> str:
    if kind not in ATTACHMENT_KINDS:
        raise InvalidInputError(
            "unknown attachment kind", {"kind": Problem("choice", "must be one of: " + ", ".join(ATTACHMENT_KINDS))}
        )
    if not data:
        raise InvalidInputError("the file is empty", {"file": Problem("file_empty", "the file is empty")})
    expected = ALLOWED_TYPES.get(extension)
    if expected is None:
        allowed = ", ".join(sorted(ALLOWED_TYPES))
        raise InvalidInputError(
            "file type not allowed", {"file": Problem("file_type", f"allowed types: {allowed}", types=allowed)}
        )
    if expected == "text/plain":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" in text:
            raise InvalidInputError(
                "not a plain UTF-8 text file", {"file": Problem("file_text", "a .txt file must be UTF-8 text")}
            )
        return expected
    guessed = filetype.guess_mime(data)
    if guessed != expected:
        raise InvalidInputError(
            "content does not match extension",
            {"file": Problem("file_mismatch", f"content is {guessed or 'unknown'}, not .{extension}")},
        )
    return expected


def list_attachments(session: Session, csi_id: int) -> list[Attachment]:
    """A CSI's attachments, oldest first."""
    query = sa.select(Attachment).where(Attachment.csi_id == csi_id).order_by(Attachment.id)
    return list(session.scalars(query))


def get_attachment(session: Session, csi_id: int, attachment_id: int) -> Attachment:
    """One attachment of one CSI (looked up by both ids, so ids from another case do not resolve).

    :raises NotFoundError: no such attachment on that CSI.
    """
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.csi_id != csi_id:
        raise NotFoundError(
            Problem(
                "attachment_missing",
                f"attachment {attachment_id} does not exist on this case",
                attachment=attachment_id,
            )
        )
    return attachment
