"""Deploy BPMN/DMN/form bundles as immutable, content-hashed versions and serve parsed specs from a cache."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from pathlib import PurePosixPath

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.dependencies import process_files
from engine.bpmn.dependencies import process_name
from engine.bpmn.lint import validate_bundle
from engine.bpmn.specs import ParsedBundle
from engine.bpmn.specs import parse_bundle
from engine.clock import utcnow
from engine.errors import DefinitionError
from engine.errors import DefinitionProblem
from engine.errors import NotFoundError
from engine.platform.timeline import log_event
from engine.records.process import DefinitionBundle
from engine.records.process import ProcessVersion
from engine.records.user import ROLE_KEYS

ALLOWED_SUFFIXES = (".bpmn", ".dmn", ".json")
_BUNDLE_CACHE: dict[str, ParsedBundle] = {}
_CACHE_LIMIT = 32


@dataclass(frozen=True)
class DeployResult:
    """Outcome of a deploy: the versions created and the processes left unchanged."""

    created: list[ProcessVersion]
    unchanged: list[ProcessVersion]


def read_directory(path: Path) -> dict[str, bytes]:
    """Read a workflows folder as a bundle: *.bpmn, *.dmn and forms/*.json, keyed by relative path."""
    files: dict[str, bytes] = {}
    for item in sorted(path.rglob("*")):
        if item.is_file() and item.suffix in ALLOWED_SUFFIXES:
            files[item.relative_to(path).as_posix()] = item.read_bytes()
    return files


def deploy_files(session: Session, uploads: Mapping[str, bytes], *, actor: str, note: str = "") -> DeployResult:
    """Lint the previous bundle overlaid with `uploads` and record new versions of every process that changed.

    :raises DefinitionError: any file fails the deploy lint (file:line messages); nothing is written.
    """
    if not uploads:
        raise DefinitionError([DefinitionProblem("(upload)", None, "no files were uploaded")])
    previous = latest_bundle(session)
    files = dict(previous.files) if previous is not None else {}
    files.update(_decode_uploads(uploads))
    parsed = validate_bundle(_encode(files), roles=ROLE_KEYS, operators=registered_operators())
    bundle = _store_bundle(session, files, actor=actor, note=note)
    _remember(bundle.sha256, parsed)
    return _record_versions(session, parsed, bundle, actor=actor)


def registered_operators() -> frozenset[str]:
    """The service-task operator names the deploy lint accepts."""
    # imported here, not at module level: operators start and wake instances, which needs this module (a cycle)
    from engine.aftersales.operators import SERVICE_TASKS

    return frozenset(SERVICE_TASKS)


def _decode_uploads(uploads: Mapping[str, bytes]) -> dict[str, str]:
    decoded: dict[str, str] = {}
    for raw_name, data in uploads.items():
        name = _bundle_path(raw_name)
        try:
            decoded[name] = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DefinitionError([DefinitionProblem(raw_name, None, f"not UTF-8 text: {exc}")]) from exc
    return decoded


def _bundle_path(raw_name: str) -> str:
    """Normalise an uploaded file name: forms go under forms/, nothing may climb out of the bundle."""
    name = PurePosixPath(raw_name.replace("\\", "/")).name
    if not name or not name.endswith(ALLOWED_SUFFIXES) or name.startswith("."):
        problem = f"unsupported file name {raw_name!r}: expected .bpmn, .dmn or forms .json"
        raise DefinitionError([DefinitionProblem(raw_name or "(unnamed)", None, problem)])
    return f"forms/{name}" if name.endswith(".json") else name


def _encode(files: Mapping[str, str]) -> dict[str, bytes]:
    return {name: text.encode("utf-8") for name, text in files.items()}


def _sha256(files: Mapping[str, str]) -> str:
    canonical = json.dumps(sorted(files.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _store_bundle(session: Session, files: dict[str, str], *, actor: str, note: str) -> DefinitionBundle:
    sha = _sha256(files)
    existing = session.scalars(sa.select(DefinitionBundle).where(DefinitionBundle.sha256 == sha)).first()
    if existing is not None:
        return existing
    bundle = DefinitionBundle(sha256=sha, files=files, deployed_at=utcnow(), deployed_by=actor, note=note)
    session.add(bundle)
    session.flush()
    return bundle


def _record_versions(session: Session, parsed: ParsedBundle, bundle: DefinitionBundle, *, actor: str) -> DeployResult:
    created: list[ProcessVersion] = []
    unchanged: list[ProcessVersion] = []
    for process_id in sorted(parsed.process_ids()):
        deps = {name: bundle.files[name] for name in process_files(parsed, process_id) if name in bundle.files}
        sha = _sha256(deps)
        current = latest_version(session, process_id)
        if current is not None and current.sha256 == sha:
            unchanged.append(current)
            continue
        version = ProcessVersion(
            process_id=process_id,
            version=(current.version + 1) if current else 1,
            name=process_name(parsed, process_id),
            bundle_id=bundle.id,
            bundle_sha256=bundle.sha256,
            sha256=sha,
            deployed_at=utcnow(),
            deployed_by=actor,
        )
        session.add(version)
        created.append(version)
    session.flush()
    for version in created:
        log_event(
            session,
            "definition.deployed",
            actor=actor,
            message=f"{version.process_id} v{version.version}",
            data={"process_version_id": version.id, "sha256": version.sha256},
        )
    return DeployResult(created=created, unchanged=unchanged)


def latest_bundle(session: Session) -> DefinitionBundle | None:
    """The most recently deployed bundle (the base the next upload is overlaid on)."""
    return session.scalars(sa.select(DefinitionBundle).order_by(DefinitionBundle.id.desc()).limit(1)).first()


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
        raise NotFoundError(f"process {process_id!r} is not deployed; run `aftersales init` or deploy it")
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
    parsed = parse_bundle(_encode(bundle.files))
    _remember(bundle.sha256, parsed)
    return parsed


def _remember(sha: str, parsed: ParsedBundle) -> None:
    if len(_BUNDLE_CACHE) >= _CACHE_LIMIT:
        _BUNDLE_CACHE.pop(next(iter(_BUNDLE_CACHE)))
    _BUNDLE_CACHE[sha] = parsed
