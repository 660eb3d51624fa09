"""Deployed process versions (immutable, content-hashed) and their parsed specs, served from a cache.

Deploying is engine/platform/deployment.py; this module answers which version a process runs on and gives its
parsed bundle.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.specs import ParsedBundle
from engine.bpmn.specs import parse_bundle
from engine.errors import ConflictError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.records.process import DefinitionBundle
from engine.records.process import ProcessDefinition
from engine.records.process import ProcessVersion

ALLOWED_SUFFIXES = (".bpmn", ".dmn", ".json")
_BUNDLE_CACHE: dict[str, ParsedBundle] = {}
_CACHE_LIMIT = 32


def read_directory(path: Path) -> dict[str, bytes]:
    """Read a workflows folder as a bundle: *.bpmn, *.dmn and forms/*.json, keyed by relative path."""
    files: dict[str, bytes] = {}
    for item in sorted(path.rglob("*")):
        if item.is_file() and item.suffix in ALLOWED_SUFFIXES:
            files[item.relative_to(path).as_posix()] = item.read_bytes()
    return files


def latest_version(session: Session, process_id: str) -> ProcessVersion | None:
    """The newest deployed version of a process, which new instances start on."""
    query = (
        sa.select(ProcessVersion)
        .where(ProcessVersion.process_id == process_id)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def require_latest_version(session: Session, process_id: str) -> ProcessVersion:
    """Like latest_version, but a missing process is an error.

    :raises NotFoundError: the process was never deployed (run `aftersales init`).
    """
    version = latest_version(session, process_id)
    if version is None:
        raise NotFoundError(
            Problem(
                "process_missing",
                f"process {process_id!r} is not deployed; run `aftersales init` or deploy it",
                process=process_id,
            )
        )
    return version


def require_startable_version(session: Session, process_id: str) -> ProcessVersion:
    """The version new instances of a process start on.

    :raises NotFoundError: the process was never deployed. :raises ConflictError: the process is retired.
    """
    version = require_latest_version(session, process_id)
    definition = session.get(ProcessDefinition, process_id)
    if definition is not None and definition.retired_at is not None:
        raise ConflictError(
            Problem(
                "process_retired",
                f"process {process_id!r} is retired: running instances finish, nothing new starts",
                process=process_id,
            )
        )
    return version


def list_versions(session: Session) -> list[ProcessVersion]:
    """Every deployed version, newest first within each process."""
    query = sa.select(ProcessVersion).order_by(ProcessVersion.process_id, ProcessVersion.version.desc())
    return list(session.scalars(query))


def parsed_bundle(session: Session, version: ProcessVersion) -> ParsedBundle:
    """The parsed specs behind a version, parsed once per bundle (cached by content hash: bundles are immutable)."""
    cached = _BUNDLE_CACHE.get(version.bundle_sha256)
    if cached is not None:
        return cached
    bundle = session.get(DefinitionBundle, version.bundle_id)
    if bundle is None:
        raise NotFoundError(f"definition bundle {version.bundle_id} does not exist")
    parsed = parse_bundle({name: text.encode("utf-8") for name, text in bundle.files.items()})
    remember_parsed(bundle.sha256, parsed)
    return parsed


def remember_parsed(sha: str, parsed: ParsedBundle) -> None:
    """Cache a parsed bundle under the hash of the files it was stored with."""
    if len(_BUNDLE_CACHE) >= _CACHE_LIMIT:
        _BUNDLE_CACHE.pop(next(iter(_BUNDLE_CACHE)))
    _BUNDLE_CACHE[sha] = parsed
