"""Deploy a set of uploaded BPMN, DMN and form files: the files uploaded replace their namesakes in the repository,
and only they (with what they call and what calls them) are checked and versioned.

A process or decision id belongs to the file that declares it: a second file declaring it is refused naming both
files. Each process gets a new version when the files it runs on changed — its own file, the processes it calls,
the decisions and forms it uses — so a process that calls a re-deployed subprocess moves on with it, and an unused
upload creates no version. Designers can retire a process: no new instances, running ones finish on their version.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import PurePosixPath
from typing import Any

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session

from engine.bpmn.catalog import Catalog
from engine.bpmn.dependencies import process_name
from engine.bpmn.lint import lint_and_parse
from engine.bpmn.specs import BPMN_NS
from engine.bpmn.specs import ParsedBundle
from engine.bpmn.start_event import start_event
from engine.bpmn.xml import parse_xml
from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import DefinitionError
from engine.errors import DefinitionProblem
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.definitions import latest_version
from engine.platform.definitions import remember_parsed
from engine.platform.timeline import log_event
from engine.records.process import DefinitionBundle
from engine.records.process import DefinitionFile
from engine.records.process import ProcessDefinition
from engine.records.process import ProcessVersion

ALLOWED_SUFFIXES = (".bpmn", ".dmn", ".json")
DEFAULT_IDS = {"Process_1", "Process_0", "main", "Process", "Definitions_1"}
_NS = {"bpmn": BPMN_NS, "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}


@dataclass(frozen=True)
class Declarations:
    """What one BPMN/DMN file declares and refers to."""

    processes: tuple[str, ...] = ()
    executable: tuple[str, ...] = ()
    decisions: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    decision_refs: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()


@dataclass
class DeployPlan:
    """What a deploy would check and version: every problem, the files to lint, and the processes to version."""

    files: dict[str, str]
    lint_files: dict[str, bytes]
    roots: list[str]
    closures: dict[str, dict[str, str]]
    parsed: ParsedBundle | None = None
    problems: list[DefinitionProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeployResult:
    """Outcome of a deploy: versions created, processes unchanged, retirements and notes for the designer."""

    created: list[ProcessVersion]
    unchanged: list[ProcessVersion]
    retired: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def bundle_path(raw_name: str) -> str:
    """Where an uploaded file lives: forms under forms/, BPMN and DMN at the root; nothing climbs out.

    :raises DefinitionError: an empty, hidden or unsupported file name.
    """
    name = PurePosixPath(raw_name.replace("\\", "/")).name
    if not name or not name.endswith(ALLOWED_SUFFIXES) or name.startswith("."):
        problem = f"unsupported file name {raw_name!r}: expected .bpmn, .dmn or forms .json"
        raise DefinitionError([DefinitionProblem(raw_name or "(unnamed)", None, problem)])
    return f"forms/{name}" if name.endswith(".json") else name


def decode_uploads(uploads: Mapping[str, bytes]) -> dict[str, str]:
    """Uploaded files as text keyed by their bundle path.

    :raises DefinitionError: a bad name, a file that is not UTF-8, or two uploads with the same name.
    """
    decoded: dict[str, str] = {}
    for raw_name, data in uploads.items():
        name = bundle_path(raw_name)
        if name in decoded:
            raise DefinitionError([DefinitionProblem(raw_name, None, f"two uploaded files are named {name!r}")])
        try:
            decoded[name] = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DefinitionError([DefinitionProblem(raw_name, None, f"not UTF-8 text: {exc}")]) from exc
    return decoded


@functools.lru_cache(maxsize=512)
def declarations(name: str, text: str) -> Declarations:
    """Ids a file declares and the processes, decisions and forms it refers to ({} when it does not parse)."""
    if not name.endswith((".bpmn", ".dmn")):
        return Declarations()
    try:
        root = parse_xml(text.encode("utf-8"), name).getroot()
    except DefinitionError:
        return Declarations()
    if name.endswith(".dmn"):
        return Declarations(decisions=tuple(str(d.get("id")) for d in root if _local(d) == "decision" and d.get("id")))
    processes = list(root.iterfind("bpmn:process", _NS))
    props = root.iterfind(".//spiffworkflow:property", _NS)
    forms = {str(p.get("value")) for p in props if p.get("name") in ("formJsonSchemaFilename", "formUiSchemaFilename")}
    ids = [str(p.get("id")) for p in processes if p.get("id")]
    executable = [str(p.get("id")) for p in processes if p.get("id") and p.get("isExecutable", "true") == "true"]
    decisions = {str(d.text).strip() for d in root.iterfind(".//spiffworkflow:calledDecisionId", _NS)}
    return Declarations(
        processes=tuple(ids),
        executable=tuple(executable),
        calls=tuple(sorted({str(c.get("calledElement")) for c in root.iter(f"{{{BPMN_NS}}}callActivity")})),
        decision_refs=tuple(sorted(decisions)),
        forms=tuple(sorted(f for f in forms if f)),
    )


def _local(el: Any) -> str:
    return str(etree.QName(el).localname) if isinstance(el.tag, str) else ""


class _Repository:
    """The current files with the uploads laid over them, and who owns each process and decision id."""

    def __init__(self, session: Session, uploads: Mapping[str, str]) -> None:
        stored = {f.name: f for f in session.scalars(sa.select(DefinitionFile))}
        self.stored = stored
        self.uploads = dict(uploads)
        self.old_files = {n: f.text for n, f in stored.items()}
        self.files = {**self.old_files, **self.uploads}
        self.process_owner, self.decision_owner = _owners(self.files, first=set(self.uploads))
        self.old_owners = _owners(self.old_files, first=set())
        self.retired = {d.process_id for d in session.scalars(sa.select(ProcessDefinition)) if d.retired_at is not None}

    def ownership_problems(self) -> list[DefinitionProblem]:
        """A process or decision id declared by two files (two uploads, or an upload and another deployed file)."""
        problems: list[DefinitionProblem] = []
        claimed: dict[tuple[str, str], str] = {}
        for name in sorted(self.uploads):
            found = declarations(name, self.uploads[name])
            for kind, ids in (("process", found.processes), ("decision", found.decisions)):
                for element_id in ids:
                    other = claimed.get((kind, element_id)) or self._stored_owner(kind, element_id, name)
                    if other is not None:
                        problems.append(_clash(kind, element_id, name, other, other in self.uploads))
                    claimed.setdefault((kind, element_id), name)
        return problems

    def _stored_owner(self, kind: str, element_id: str, name: str) -> str | None:
        for stored_name, stored in self.stored.items():
            ids = stored.processes if kind == "process" else stored.decisions
            if stored_name != name and stored_name not in self.uploads and element_id in ids:
                return stored_name
        return None

    def closure(self, start: str, *, old: bool = False) -> dict[str, str]:
        """The files a file runs on: itself, the files of the processes it calls (transitively), the DMN files of
        the decisions it uses and the forms its tasks and start events name (`old`: before the uploads)."""
        files = self.old_files if old else self.files
        process_owner, decision_owner = self.old_owners if old else (self.process_owner, self.decision_owner)
        seen: dict[str, str] = {}
        stack = [start]
        while stack:
            name = stack.pop()
            if name in seen or name not in files:
                continue
            seen[name] = files[name]
            found = declarations(name, files[name])
            stack.extend(process_owner[c] for c in found.calls if c in process_owner)
            stack.extend(decision_owner[d] for d in found.decision_refs if d in decision_owner)
            for form in found.forms:
                path = f"forms/{PurePosixPath(form).name}"
                if path in files:
                    seen[path] = files[path]
        return seen

    def dependents(self) -> list[str]:
        """Deployed, non-retired executable processes not uploaded whose files include an uploaded file."""
        found: list[str] = []
        for pid, owner in self.process_owner.items():
            if owner in self.uploads or pid in self.retired:
                continue
            executable = pid in declarations(owner, self.files[owner]).executable
            touched = set(self.closure(owner)) | set(self.closure(owner, old=True))
            if executable and touched & set(self.uploads):
                found.append(pid)
        return sorted(found)


def _owners(files: Mapping[str, str], *, first: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Process id → file and decision id → file; files in `first` win over the others."""
    processes: dict[str, str] = {}
    decisions: dict[str, str] = {}
    for name in sorted(files, key=lambda n: (n in first, n)):  # the preferred files are set last
        found = declarations(name, files[name])
        processes.update((pid, name) for pid in found.processes)
        decisions.update((did, name) for did in found.decisions)
    return processes, decisions


def _clash(kind: str, element_id: str, name: str, other: str, uploaded: bool) -> DefinitionProblem:
    where = "also uploaded" if uploaded else "already deployed"
    hint = f"rename the {kind} in {name} (or upload a new version of {other} instead)"
    if element_id in DEFAULT_IDS:
        hint += f"; {element_id!r} is the id bpmn-js and Camunda Modeler give every new diagram: give each its own id"
    message = f"{kind} id {element_id!r} is declared by {other} ({where}); an id belongs to one file: {hint}"
    return DefinitionProblem(name, None, message, element_id)


def plan_deploy(session: Session, uploads: Mapping[str, str], catalog: Catalog) -> DeployPlan:
    """Work out and lint what deploying `uploads` (text keyed by bundle path) would check and version."""
    repo = _Repository(session, uploads)
    roots = sorted(
        {pid for name in repo.uploads for pid in declarations(name, repo.uploads[name]).executable}
        | set(repo.dependents())
    )
    closures = {pid: repo.closure(repo.process_owner[pid]) for pid in roots if pid in repo.process_owner}
    lint_files: dict[str, bytes] = {n: t.encode("utf-8") for c in closures.values() for n, t in c.items()}
    lint_files.update({n: t.encode("utf-8") for n, t in repo.uploads.items()})
    plan = DeployPlan(files=repo.files, lint_files=lint_files, roots=roots, closures=closures)
    plan.problems = repo.ownership_problems()
    if lint_files:
        plan.parsed, problems = lint_and_parse(lint_files, catalog)
        plan.problems += problems
    plan.notes = _notes(repo)
    plan.removed = _removed(session, repo)
    return plan


def _notes(repo: _Repository) -> list[str]:
    notes: list[str] = []
    for name, text in sorted(repo.uploads.items()):
        found = declarations(name, text)
        for pid in found.processes:
            if pid not in found.executable and found.executable:
                notes.append(f"{name}: process {pid!r} has isExecutable=false: not deployed")
    return notes


def _removed(session: Session, repo: _Repository) -> list[str]:
    """Processes an uploaded file declared before and no longer declares (they are retired)."""
    query = sa.select(ProcessDefinition).where(
        ProcessDefinition.file.in_(list(repo.uploads)), ProcessDefinition.retired_at.is_(None)
    )
    return sorted(d.process_id for d in session.scalars(query) if repo.process_owner.get(d.process_id) != d.file)


def deploy_files(
    session: Session, uploads: Mapping[str, bytes], *, actor: str, catalog: Catalog, note: str = ""
) -> DeployResult:
    """Deploy uploaded files: lint what they touch, record new versions, update the repository.

    :raises DefinitionError: nothing uploaded, or any problem (file:line messages); nothing is written.
    """
    if not uploads:
        raise DefinitionError([DefinitionProblem("(upload)", None, "no files were uploaded")])
    plan = plan_deploy(session, decode_uploads(uploads), catalog)
    if plan.problems:
        raise DefinitionError(plan.problems)
    created: list[ProcessVersion] = []
    unchanged: list[ProcessVersion] = []
    for pid in plan.roots:
        closure = plan.closures.get(pid)
        if closure is None:
            continue
        assert plan.parsed is not None  # a root has a closure, so there were files to lint
        version, new = _version(session, pid, closure, plan.parsed, actor=actor, note=note)
        (created if new else unchanged).append(version)
    notes = [*plan.notes, *_start_notes(plan, created)]
    uploaded = {n: plan.files[n] for n in decode_uploads(uploads)}
    _store_files(session, uploaded, actor=actor)
    notes += _own_processes(session, uploaded, actor=actor)
    for pid in plan.removed:
        _retire(session, pid, actor=actor, reason="no longer declared by its file")
    session.flush()
    for version in created:
        log_event(
            session,
            "definition.deployed",
            actor=actor,
            message=f"{version.process_id} v{version.version}",
            data={
                "process_version_id": version.id,
                "sha256": version.sha256,
                "files": sorted(plan.closures[version.process_id]),
            },
        )
    return DeployResult(created=created, unchanged=unchanged, retired=plan.removed, notes=notes)


def _start_notes(plan: DeployPlan, created: list[ProcessVersion]) -> list[str]:
    """Tell the designer who may start each new version whose start event is in no lane."""
    notes: list[str] = []
    for version in created:
        if plan.parsed is not None and not start_event(plan.parsed, version.process_id).lane:
            notes.append(
                f"{version.process_id}: its start event is in no lane, so only process designers and admins may start"
                " it; put it in a lane named after the role that should"
            )
    return notes


def _sha256(files: Mapping[str, str]) -> str:
    canonical = json.dumps(sorted(files.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _version(
    session: Session, pid: str, closure: dict[str, str], parsed: ParsedBundle, *, actor: str, note: str
) -> tuple[ProcessVersion, bool]:
    """The process's latest version when its files are unchanged, else a new version storing exactly its files.

    `parsed` is the deploy's linted parse, a superset of the closure with the same specs for `pid`; it is cached
    for the new bundle, so the first start does not parse again, only when it holds exactly the closure's files: a
    superset would list files (forms) the stored bundle lacks, and this process would then read the version
    differently from every other (the dashboard found a scale another process could not).
    """
    sha = _sha256(closure)
    current = latest_version(session, pid)
    if current is not None and current.sha256 == sha:
        return current, False
    bundle = session.scalars(sa.select(DefinitionBundle).where(DefinitionBundle.sha256 == sha)).first()
    if bundle is None:
        bundle = DefinitionBundle(sha256=sha, files=closure, deployed_at=utcnow(), deployed_by=actor, note=note[:500])
        session.add(bundle)
        session.flush()
    if set(parsed.files) == set(closure):
        remember_parsed(bundle.sha256, parsed)
    version = ProcessVersion(
        process_id=pid,
        version=(current.version + 1) if current else 1,
        name=process_name(parsed, pid)[:200],
        bundle_id=bundle.id,
        bundle_sha256=bundle.sha256,
        sha256=sha,
        deployed_at=utcnow(),
        deployed_by=actor,
    )
    session.add(version)
    session.flush()
    return version, True


def _store_files(session: Session, uploaded: Mapping[str, str], *, actor: str) -> None:
    now = utcnow()
    for name, text in uploaded.items():
        found = declarations(name, text)
        row = session.get(DefinitionFile, name)
        if row is None:
            row = DefinitionFile(name=name)
            session.add(row)
        row.text, row.sha256 = text, hashlib.sha256(text.encode("utf-8")).hexdigest()
        row.processes, row.decisions = list(found.processes), list(found.decisions)
        row.deployed_at, row.deployed_by = now, actor


def _own_processes(session: Session, uploaded: Mapping[str, str], *, actor: str) -> list[str]:
    """Each executable process uploaded is owned by its file and active again if it was retired."""
    notes: list[str] = []
    for name, text in uploaded.items():
        for pid in declarations(name, text).executable:
            definition = session.get(ProcessDefinition, pid)
            if definition is None:
                session.add(ProcessDefinition(process_id=pid, file=name, created_at=utcnow()))
                continue
            definition.file = name
            if definition.retired_at is not None:
                definition.retired_at = definition.retired_by = definition.retire_reason = None
                notes.append(f"{pid}: deployed again, no longer retired")
                log_event(session, "definition.restored", actor=actor, message=pid)
    return notes


def retire_process(session: Session, actor: str, process_id: str, reason: str) -> ProcessDefinition:
    """Retire a process: nothing new starts on it; running instances finish on their version.

    :raises NotFoundError: never deployed. :raises ConflictError: already retired.
    """
    definition = session.get(ProcessDefinition, process_id)
    if definition is None:
        raise NotFoundError(Problem("process_missing", f"process {process_id!r} is not deployed", process=process_id))
    if definition.retired_at is not None:
        raise ConflictError(
            Problem("process_retired", f"process {process_id!r} is already retired", process=process_id)
        )
    return _retire(session, process_id, actor=actor, reason=reason)


def _retire(session: Session, process_id: str, *, actor: str, reason: str) -> ProcessDefinition:
    definition = session.get(ProcessDefinition, process_id)
    if definition is None:
        definition = ProcessDefinition(process_id=process_id, file="", created_at=utcnow())
        session.add(definition)
    definition.retired_at, definition.retired_by, definition.retire_reason = utcnow(), actor, reason[:1000]
    log_event(session, "definition.retired", actor=actor, message=process_id, data={"reason": reason})
    return definition


def repository_files(session: Session) -> dict[str, str]:
    """The current text of every deployed file (what the designer opens and edits)."""
    return {f.name: f.text for f in session.scalars(sa.select(DefinitionFile).order_by(DefinitionFile.name))}


def definitions(session: Session, process_ids: Iterable[str] | None = None) -> dict[str, ProcessDefinition]:
    """Process definitions by id (all, or those named)."""
    query = sa.select(ProcessDefinition)
    if process_ids is not None:
        query = query.where(ProcessDefinition.process_id.in_(list(process_ids)))
    return {d.process_id: d for d in session.scalars(query)}
