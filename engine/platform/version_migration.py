"""Migration of running instances to a newer version of their process: preview which can move (the engine's spec
diff, engine/bpmn/migration.py), move the chosen ones in bulk, and report the rest with the reason.

Each instance moves in its own transaction under its row lock, with a timeline entry naming the old and the new
version; an instance that cannot move stays untouched and is reported, element by element. Nothing moves silently.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from engine.bpmn.migration import Blocker as Blocker  # re-exported: the pages describe blockers
from engine.bpmn.migration import MigrationCheck
from engine.bpmn.migration import VersionMigration
from engine.bpmn.runtime import Workflow
from engine.calendar import BusinessCalendar
from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import EngineError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform.definitions import parsed_bundle
from engine.platform.designer import versions_of
from engine.platform.runtime import Runtime
from engine.platform.step import load_workflow
from engine.platform.step import run_step
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion

# A parked instance (an incident) may move too: fixing a model bug is a new version, then migrate, then retry.
MOVABLE = (InstanceStatus.RUNNING.value, InstanceStatus.ERROR.value)
PENDING = (InstanceStatus.RUNNING.value, InstanceStatus.ERROR.value, InstanceStatus.SUSPENDED.value)


class MigrationRefusedError(ConflictError):
    """The instance cannot move to the target version; `reasons` says why, element by element."""

    def __init__(self, message: str, blockers: tuple[Blocker, ...] = ()) -> None:
        super().__init__(message)
        self.blockers = blockers


@dataclass
class Candidate:
    """An instance on an older version, with the verdict for moving it to the target."""

    instance: ProcessInstance
    version: int
    csi_no: str | None
    check: MigrationCheck | None = None
    problem: str = ""  # why it cannot move when the diff was not the reason (status, load failure)

    @property
    def eligible(self) -> bool:
        """True when the instance may move."""
        return not self.problem and self.check is not None and self.check.eligible


@dataclass
class MigrationReport:
    """Outcome of a bulk move: which instances moved from which version, which did not and why."""

    target: int
    moved: list[tuple[int, int]] = field(default_factory=list)  # (instance id, old version)
    refused: list[tuple[int, str, tuple[Blocker, ...]]] = field(default_factory=list)


class Migrations:
    """VersionMigration objects per old version for one target: each spec diff is computed once per bulk move."""

    def __init__(self, target: ProcessVersion) -> None:
        self.target = target
        self.cache: dict[int, VersionMigration] = {}

    def get(self, session: Session, old: ProcessVersion) -> VersionMigration:
        """The diff from `old` to the target (parsed bundles are cached by content, so any session will do)."""
        if old.id not in self.cache:
            new = parsed_bundle(session, self.target)
            self.cache[old.id] = VersionMigration(parsed_bundle(session, old), new, self.target.process_id)
        return self.cache[old.id]


def migration_preview(
    session: Session, runtime: Runtime, target: ProcessVersion, *, limit: int = 500
) -> list[Candidate]:
    """Unfinished instances on versions older than `target`, each with whether it can move and why not."""
    versions = {v.id: v for v in versions_of(session, target.process_id) if v.version < target.version}
    query = (
        sa.select(ProcessInstance, CSI.csi_no)
        .outerjoin(CSI, CSI.id == ProcessInstance.csi_id)
        .where(ProcessInstance.process_version_id.in_(list(versions)), ProcessInstance.status.in_(PENDING))
        .order_by(ProcessInstance.id)
        .limit(limit)
    )
    migrations = Migrations(target)
    candidates: list[Candidate] = []
    for instance, csi_no in session.execute(query):
        old = versions[instance.process_version_id]
        candidate = Candidate(instance, old.version, csi_no)
        if instance.status not in MOVABLE:
            candidate.problem = f"status:{instance.status}"
        else:
            try:
                handle = load_workflow(session, runtime, instance, old)
                candidate.check = migrations.get(session, old).check(handle)
            except EngineError as exc:
                candidate.problem = f"load:{exc}"
        candidates.append(candidate)
    return candidates


def migrate_instance(
    session: Session,
    runtime: Runtime,
    instance_id: int,
    target: ProcessVersion,
    *,
    actor: str,
    calendar: Callable[[], BusinessCalendar],
    migrations: Migrations | None = None,
) -> int:
    """Move one instance to `target` under its row lock; returns the version number it was on.

    :raises MigrationRefusedError: not running, not older than the target, or a live task blocks the move.
    :raises NotFoundError: no such instance of this process.
    """
    instance = _lock_instance(session, instance_id, target.process_id)
    old = session.get(ProcessVersion, instance.process_version_id)
    assert old is not None  # FK guarantees it
    if instance.status not in MOVABLE:
        raise MigrationRefusedError(f"status:{instance.status}")
    if old.version >= target.version:
        raise MigrationRefusedError(f"already:{old.version}")
    if _restart_unstarted(session, runtime, instance, old, target, actor=actor):
        return old.version
    migration = (migrations or Migrations(target)).get(session, old)
    check_holder: list[Any] = []

    def move(handle: Workflow) -> None:
        check = migration.check(handle)
        if not check.eligible:
            raise MigrationRefusedError("blocked", check.blockers)
        migration.migrate(handle)
        if instance.status == InstanceStatus.RUNNING.value:  # a parked one waits for its retry
            runtime.fire_due_timers(handle)  # a re-armed timer that is already due fires now, as the worker would
        check_holder.append(check)

    def log_move() -> None:
        instance.process_version_id = target.id
        log_event(
            session,
            "instance.migrated",
            actor=actor,
            csi_id=instance.csi_id,
            instance_id=instance.id,
            message=f"{target.process_id} v{old.version} → v{target.version}",
            data={
                "from_version": old.version,
                "to_version": target.version,
                "from_version_id": old.id,
                "to_version_id": target.id,
                "waiting_at": list(check_holder[0].waiting_at),
            },
        )

    run_step(session, runtime, instance, move, actor=actor, calendar=calendar, version=old, before_write=log_move)
    instance.updated_at = utcnow()
    return old.version


def _restart_unstarted(
    session: Session,
    runtime: Runtime,
    instance: ProcessInstance,
    old: ProcessVersion,
    target: ProcessVersion,
    *,
    actor: str,
) -> bool:
    """An instance whose start failed never ran: it moves by being created again on the target with its start
    data (and stays parked for its retry). False when the instance has run."""
    data = runtime.start_data_if_unstarted(load_workflow(session, runtime, instance, old))
    if data is None:
        return False
    fresh = runtime.create(parsed_bundle(session, target), instance.process_id, data)
    instance.state_json = runtime.snapshot(fresh).state_json
    instance.process_version_id = target.id
    instance.updated_at = utcnow()
    log_event(
        session,
        "instance.migrated",
        actor=actor,
        csi_id=instance.csi_id,
        instance_id=instance.id,
        message=f"{target.process_id} v{old.version} → v{target.version}",
        data={"from_version": old.version, "to_version": target.version, "waiting_at": [], "restarted": True},
    )
    return True


def _lock_instance(session: Session, instance_id: int, process_id: str) -> ProcessInstance:
    query = (
        sa.select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    instance = session.scalars(query).first()
    if instance is None or instance.process_id != process_id:
        raise NotFoundError(
            Problem("instance_missing", f"process {process_id!r} has no instance {instance_id}", instance=instance_id)
        )
    return instance


def migrate_instances(
    sessions: sessionmaker[Session],
    runtime: Runtime,
    target_id: int,
    instance_ids: Iterable[int],
    *,
    actor: str,
    load_calendar: Callable[[Session], BusinessCalendar],
) -> MigrationReport:
    """Move each instance to the target version in its own transaction; the rest are reported with the reason."""
    with sessions() as session:
        target = session.get(ProcessVersion, target_id)
        if target is None:
            raise NotFoundError(
                Problem("version_missing", f"process version {target_id} does not exist", process="", version=target_id)
            )
        session.expunge(target)
    report = MigrationReport(target=target.version)
    migrations = Migrations(target)
    for instance_id in dict.fromkeys(instance_ids):
        try:
            with sessions() as session, session.begin():
                calendar = _calendar_for(session, load_calendar)
                old = migrate_instance(
                    session, runtime, instance_id, target, actor=actor, calendar=calendar, migrations=migrations
                )
            report.moved.append((instance_id, old))
        except MigrationRefusedError as exc:
            report.refused.append((instance_id, str(exc), exc.blockers))
        except EngineError as exc:
            report.refused.append((instance_id, f"error:{exc}", ()))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:  # SpiffWorkflow's diff on an odd state
            report.refused.append((instance_id, f"error:{type(exc).__name__}: {exc}", ()))
    return report


def _calendar_for(
    session: Session, load_calendar: Callable[[Session], BusinessCalendar]
) -> Callable[[], BusinessCalendar]:
    return lambda: load_calendar(session)
