"""Process designer use cases: what the editors need, validate and deploy edits, version history with a readable
diff (engine/platform/designer_diff.py) and download of any version. Moving running instances to a newer version
is in engine/platform/version_migration.py.

Validate plans the deploy of the edited files exactly as a deploy does (engine/platform/deployment.py), so it answers
what "deploy" would, with the problems pinned to elements for the canvas.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.catalog import Catalog
from engine.bpmn.catalog import OperatorSpec
from engine.bpmn.dependencies import process_files
from engine.bpmn.specs import load_json
from engine.bpmn.xml import parse_xml
from engine.errors import DefinitionError
from engine.errors import DefinitionProblem
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.definitions import parsed_bundle
from engine.platform.deployment import DeployResult
from engine.platform.deployment import bundle_path
from engine.platform.deployment import declarations
from engine.platform.deployment import deploy_files
from engine.platform.deployment import plan_deploy
from engine.platform.deployment import repository_files
from engine.platform.designer_diff import Change
from engine.platform.designer_diff import diff_files
from engine.platform.designer_diff import element_names
from engine.records.process import DefinitionBundle
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion

EDITABLE_SUFFIXES = (".bpmn", ".dmn", ".json")


# ---- editing: pickers, validate, deploy ------------------------------------------------------------------


@dataclass(frozen=True)
class Pickers:
    """What the editors offer in their pickers: the repository's files, processes and decisions, and the catalog's
    operators (with their parameters), properties and roles."""

    files: list[str]
    forms: list[str]  # *.schema.json base names
    ui_forms: list[str]  # *.ui.json base names
    processes: list[str]
    decisions: list[str]
    operators: list[dict[str, Any]]
    properties: list[dict[str, Any]]
    roles: list[str]


def pickers(session: Session, catalog: Catalog) -> Pickers:
    """The pickers' contents: the deployed files and what they declare, and what models may bind to."""
    files = repository_files(session)
    processes: set[str] = set()
    decisions: set[str] = set()
    for name, text in files.items():
        found = declarations(name, text)
        processes.update(found.executable)
        decisions.update(found.decisions)
    names = [PurePosixPath(f).name for f in files]
    return Pickers(
        files=sorted(files),
        forms=[n for n in names if n.endswith(".schema.json")],
        ui_forms=[n for n in names if n.endswith(".ui.json")],
        processes=sorted(processes),
        decisions=sorted(decisions),
        operators=[_operator_json(spec) for spec in sorted(catalog.operators.values(), key=lambda s: s.name)],
        properties=[asdict(spec) for spec in catalog.properties.values()],
        roles=sorted(catalog.roles),
    )


def _operator_json(spec: OperatorSpec) -> dict[str, Any]:
    """An operator as the properties panel shows it: name, section, what it writes, parameters, form fields."""
    return {
        "name": spec.name,
        "section": spec.section,
        "doc": spec.doc,
        "user_task_only": spec.user_task_only,
        "form_fields": list(spec.form_fields),
        "params": [asdict(p) for p in spec.params or ()],
    }


def bundle_key(raw_name: str) -> str:
    """Where an edited file lives in the bundle (the deploy's rule: forms under forms/, others at the root).

    :raises DefinitionError: an empty, hidden or unsupported file name.
    """
    return bundle_path(raw_name)


def repository_file(session: Session, name: str) -> str:
    """The deployed text of one repository file.

    :raises NotFoundError: no such file.
    """
    files = repository_files(session)
    if name not in files:
        raise NotFoundError(Problem("file_missing", f"no deployed file {name!r}", file=name))
    return files[name]


def validate_edits(session: Session, edits: Mapping[str, str], catalog: Catalog) -> list[DefinitionProblem]:
    """Every problem deploying `edits` would meet (ownership, lint of what they touch), pinned to elements.

    :raises InvalidInputError: nothing to validate. :raises DefinitionError: a file name is not allowed.
    """
    if not edits:
        raise InvalidInputError("no files to validate", {"files": "send at least one file"})
    plan = plan_deploy(session, {bundle_key(name): text for name, text in edits.items()}, catalog)
    return [_pinned(p, plan.lint_files) for p in plan.problems]


def deploy_edits(
    session: Session, edits: Mapping[str, str], *, actor: str, catalog: Catalog, note: str = ""
) -> DeployResult:
    """Deploy the edited files as new immutable versions (who and when are recorded on each version).

    :raises DefinitionError: the lint refused the files (nothing was written); problems pinned to elements.
    """
    if not edits:
        raise InvalidInputError("no files to deploy", {"files": "send at least one file"})
    uploads = {bundle_key(name): text.encode("utf-8") for name, text in edits.items()}
    try:
        return deploy_files(session, uploads, actor=actor, catalog=catalog, note=note[:500])
    except DefinitionError as err:
        files = {bundle_key(name): text.encode("utf-8") for name, text in edits.items()}
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
        raise NotFoundError(Problem("process_missing", f"process {process_id!r} is not deployed", process=process_id))
    return versions


def get_version(session: Session, process_id: str, number: int | None = None) -> ProcessVersion:
    """One version of a process (the latest when `number` is None).

    :raises NotFoundError: no such process or version.
    """
    for version in versions_of(session, process_id):
        if number is None or version.version == number:
            return version
    raise NotFoundError(
        Problem(
            "version_missing", f"process {process_id!r} has no version {number}", process=process_id, version=number
        )
    )


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
        raise NotFoundError(Problem("file_missing", f"bundle {bundle_id} has no file {name!r}", file=name))
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


_NOT_OBJECT = Problem("json_object", "must be a JSON object")
_PROPERTIES = Problem("schema_properties", "properties must map field names to objects")
_REQUIRED = Problem("schema_required", "required must be a list of field names")


def parse_form_texts(schema_text: str, ui_text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A form schema and UI schema typed in the editor, parsed and checked enough to render a preview.

    :raises InvalidInputError: not JSON (with the line), not an object, or properties that are not objects.
    """
    values: list[dict[str, Any]] = []
    for key, label, source in (("schema", "schema.json", schema_text), ("ui", "ui.json", ui_text or "{}")):
        value, problem = load_json(label, source.encode("utf-8"))
        if problem is not None:
            raise InvalidInputError(problem.message, {key: problem.message})
        if not isinstance(value, dict):
            raise InvalidInputError(_NOT_OBJECT, {key: _NOT_OBJECT})
        values.append(value)
    schema, ui = values
    properties = schema.get("properties", {})
    if not isinstance(properties, dict) or not all(isinstance(v, dict) for v in properties.values()):
        raise InvalidInputError(_PROPERTIES, {"schema": _PROPERTIES})
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise InvalidInputError(_REQUIRED, {"schema": _REQUIRED})
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
