"""Process designer use cases: what the editors need, validate and deploy edits, version history with a readable
diff (engine/platform/designer_diff.py) and download of any version. Moving running instances to a newer version
is in engine/platform/version_migration.py.

Edits are overlaid on the latest deployed bundle, exactly as a deploy does, so "validate" answers what "deploy"
would, and the problems come back pinned to elements for the canvas.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.dependencies import process_files
from engine.bpmn.lint import lint_bundle
from engine.bpmn.specs import ParsedBundle
from engine.bpmn.specs import load_json
from engine.bpmn.specs import parse_bundle
from engine.bpmn.xml import parse_xml
from engine.errors import DefinitionError
from engine.errors import DefinitionProblem
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.platform.definitions import DeployResult
from engine.platform.definitions import deploy_files
from engine.platform.definitions import latest_bundle
from engine.platform.definitions import parsed_bundle
from engine.platform.definitions import registered_operators
from engine.platform.designer_diff import Change
from engine.platform.designer_diff import diff_files
from engine.platform.designer_diff import element_names
from engine.records.process import DefinitionBundle
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.user import ROLE_KEYS

EDITABLE_SUFFIXES = (".bpmn", ".dmn", ".json")


# ---- editing: catalog, validate, deploy ------------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """What the editors offer in their pickers, from the latest bundle: files, processes, decisions, operators."""

    bundle_id: int | None
    files: list[str]
    forms: list[str]  # *.schema.json base names
    ui_forms: list[str]  # *.ui.json base names
    processes: list[str]
    decisions: list[str]
    operators: list[str]
    roles: list[str]


def catalog(session: Session) -> Catalog:
    """The pickers' contents, taken from the latest deployed bundle."""
    bundle = latest_bundle(session)
    files = sorted(bundle.files) if bundle is not None else []
    processes: list[str] = []
    decisions: list[str] = []
    if bundle is not None:
        parsed = _parsed(session, bundle)
        processes = parsed.process_ids()
        decisions = sorted(_decision_ids(parsed.trees))
    names = [PurePosixPath(f).name for f in files]
    return Catalog(
        bundle_id=bundle.id if bundle is not None else None,
        files=files,
        forms=[n for n in names if n.endswith(".schema.json")],
        ui_forms=[n for n in names if n.endswith(".ui.json")],
        processes=processes,
        decisions=decisions,
        operators=sorted(registered_operators()),
        roles=sorted(ROLE_KEYS),
    )


def _parsed(session: Session, bundle: DefinitionBundle) -> ParsedBundle:
    """The parsed latest bundle: cached through a version deployed with it, else parsed here."""
    version = session.scalars(sa.select(ProcessVersion).where(ProcessVersion.bundle_id == bundle.id).limit(1)).first()
    if version is None:  # a deploy that changed no process (e.g. an unused form) stores a bundle without versions
        return parse_bundle({k: v.encode("utf-8") for k, v in bundle.files.items()})
    return parsed_bundle(session, version)


def _decision_ids(trees: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    for name, tree in trees.items():
        if name.endswith(".dmn"):
            root = tree.getroot()
            found.update(str(d.get("id")) for d in root if str(d.tag).endswith("}decision") and d.get("id"))
    return found


def bundle_key(raw_name: str) -> str:
    """Where an edited file lives in the bundle (the deploy's rule: forms under forms/, others at the root).

    :raises DefinitionError: an empty, hidden or unsupported file name.
    """
    name = PurePosixPath(raw_name.replace("\\", "/")).name
    if not name or name.startswith(".") or not name.endswith(EDITABLE_SUFFIXES):
        problem = f"unsupported file name {raw_name!r}: expected .bpmn, .dmn or forms .json"
        raise DefinitionError([DefinitionProblem(raw_name or "(unnamed)", None, problem)])
    return f"forms/{name}" if name.endswith(".json") else name


def overlay(session: Session, edits: Mapping[str, str]) -> dict[str, bytes]:
    """The latest bundle with the edited files laid over it (what a deploy of `edits` would check and store)."""
    bundle = latest_bundle(session)
    files = {k: v.encode("utf-8") for k, v in (bundle.files if bundle is not None else {}).items()}
    for raw_name, text in edits.items():
        files[bundle_key(raw_name)] = text.encode("utf-8")
    return files


def validate_edits(session: Session, edits: Mapping[str, str]) -> list[DefinitionProblem]:
    """Every deploy-lint problem of the latest bundle overlaid with `edits` (file, line, element, message).

    :raises InvalidInputError: nothing to validate. :raises DefinitionError: a file name is not allowed.
    """
    if not edits:
        raise InvalidInputError("no files to validate", {"files": "send at least one file"})
    files = overlay(session, edits)
    problems = lint_bundle(files, roles=ROLE_KEYS, operators=registered_operators())
    return [_pinned(p, files) for p in problems]


def deploy_edits(session: Session, edits: Mapping[str, str], *, actor: str, note: str = "") -> DeployResult:
    """Deploy the edited files as new immutable versions (who and when are recorded on each version).

    :raises DefinitionError: the lint refused the bundle (nothing was written); problems pinned to elements.
    """
    if not edits:
        raise InvalidInputError("no files to deploy", {"files": "send at least one file"})
    uploads = {bundle_key(name): text.encode("utf-8") for name, text in edits.items()}
    try:
        return deploy_files(session, uploads, actor=actor, note=note[:500])
    except DefinitionError as err:
        files = overlay(session, edits)
        raise DefinitionError([_pinned(p, files) for p in err.problems]) from err


def _pinned(problem: DefinitionProblem, files: Mapping[str, bytes]) -> DefinitionProblem:
    """Give a problem without element or line the element its message names (e.g. a data store by its name)."""
    if problem.element_id or problem.line or not problem.file.endswith(".bpmn") or problem.file not in files:
        return problem
    try:
        root = parse_xml(files[problem.file], problem.file).getroot()
    except DefinitionError:
        return problem
    for el in root.iter():
        name, element_id = el.get("name"), el.get("id")
        if (
            element_id
            and name
            and len(name) > 2
            and (f"name {name} " in problem.message or f"'{name}'" in problem.message)
        ):
            return DefinitionProblem(problem.file, el.sourceline, problem.message, element_id)
    return problem


# ---- versions: history, diff, download ------------------------------------------------------------------


@dataclass(frozen=True)
class VersionEntry:
    """One version in a process's history: who deployed it when, with which note, and what changed."""

    version: ProcessVersion
    note: str
    instances: dict[str, int]
    changes: list[Change] | None  # None for the first version


def versions_of(session: Session, process_id: str) -> list[ProcessVersion]:
    """Every deployed version of a process, newest first.

    :raises NotFoundError: the process was never deployed.
    """
    query = (
        sa.select(ProcessVersion).where(ProcessVersion.process_id == process_id).order_by(ProcessVersion.version.desc())
    )
    versions = list(session.scalars(query))
    if not versions:
        raise NotFoundError(f"process {process_id!r} is not deployed")
    return versions


def get_version(session: Session, process_id: str, number: int | None = None) -> ProcessVersion:
    """One version of a process (the latest when `number` is None).

    :raises NotFoundError: no such process or version.
    """
    for version in versions_of(session, process_id):
        if number is None or version.version == number:
            return version
    raise NotFoundError(f"process {process_id!r} has no version {number}")


def version_files(session: Session, version: ProcessVersion) -> dict[str, str]:
    """The files behind one version: its BPMN, called processes, the forms it uses and the DMN tables."""
    bundle = _bundle(session, version)
    names = process_files(parsed_bundle(session, version), version.process_id)
    return {name: bundle.files[name] for name in sorted(names) if name in bundle.files}


def main_file(session: Session, version: ProcessVersion) -> str:
    """Bundle key of the BPMN file that defines the version's process."""
    return parsed_bundle(session, version).process_file(version.process_id)


def bundle_file(session: Session, bundle_id: int, name: str) -> str:
    """One file of a deployed bundle, as text.

    :raises NotFoundError: no such bundle or file.
    """
    bundle = session.get(DefinitionBundle, bundle_id)
    if bundle is None or name not in bundle.files:
        raise NotFoundError(f"bundle {bundle_id} has no file {name!r}")
    return bundle.files[name]


def version_zip(session: Session, version: ProcessVersion) -> bytes:
    """A zip of the files behind one version, with a small manifest naming the version, who and when."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in version_files(session, version).items():
            archive.writestr(name, text)
        manifest = (
            f"process: {version.process_id}\nversion: {version.version}\nsha256: {version.sha256}\n"
            f"deployed_at: {version.deployed_at.isoformat()}\ndeployed_by: {version.deployed_by}\n"
        )
        archive.writestr("VERSION.txt", manifest)
    return buffer.getvalue()


def names_of(session: Session, version: ProcessVersion) -> dict[str, str]:
    """Element id → name in one version (for showing where an instance waits)."""
    return element_names(version_files(session, version))


def parse_form_texts(schema_text: str, ui_text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A form schema and UI schema typed in the editor, parsed and checked enough to render a preview.

    :raises InvalidInputError: not JSON (with the line), not an object, or properties that are not objects.
    """
    values: list[dict[str, Any]] = []
    for key, label, source in (("schema", "schema.json", schema_text), ("ui", "ui.json", ui_text or "{}")):
        value, problem = load_json(label, source.encode("utf-8"))
        if problem is not None:
            where = f" (line {problem.line})" if problem.line else ""
            raise InvalidInputError(f"{problem.message}{where}", {key: problem.message})
        if not isinstance(value, dict):
            raise InvalidInputError("must be a JSON object", {key: "must be a JSON object"})
        values.append(value)
    schema, ui = values
    properties = schema.get("properties", {})
    if not isinstance(properties, dict) or not all(isinstance(v, dict) for v in properties.values()):
        raise InvalidInputError("properties must map field names to objects", {"schema": "properties"})
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise InvalidInputError("required must be a list of field names", {"schema": "required"})
    return schema, ui


def diff_versions(session: Session, old: ProcessVersion, new: ProcessVersion) -> list[Change]:
    """What changed from `old` to `new`: elements, form fields and DMN rules added, removed or changed."""
    return diff_files(version_files(session, old), version_files(session, new))


def history(session: Session, process_id: str) -> list[VersionEntry]:
    """Every version of a process, newest first, each with its changes against the version before it."""
    versions = versions_of(session, process_id)
    counts = instance_counts(session, [v.id for v in versions])
    query = sa.select(DefinitionBundle.id, DefinitionBundle.note).where(
        DefinitionBundle.id.in_({v.bundle_id for v in versions})
    )
    notes = {bundle_id: note for bundle_id, note in session.execute(query)}
    entries: list[VersionEntry] = []
    for index, version in enumerate(versions):
        previous = versions[index + 1] if index + 1 < len(versions) else None
        changes = diff_versions(session, previous, version) if previous is not None else None
        entries.append(VersionEntry(version, notes.get(version.bundle_id, ""), counts.get(version.id, {}), changes))
    return entries


def instance_counts(session: Session, version_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Instances per version and status."""
    query = (
        sa.select(ProcessInstance.process_version_id, ProcessInstance.status, sa.func.count())
        .where(ProcessInstance.process_version_id.in_(list(version_ids)))
        .group_by(ProcessInstance.process_version_id, ProcessInstance.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for version_id, status, count in session.execute(query):
        counts.setdefault(version_id, {})[status] = count
    return counts


def _bundle(session: Session, version: ProcessVersion) -> DefinitionBundle:
    bundle = session.get(DefinitionBundle, version.bundle_id)
    if bundle is None:
        raise NotFoundError(f"definition bundle {version.bundle_id} does not exist")
    return bundle
