"""Who may read and annotate a case: the service organisation, QC, sales, admins, and whoever registered it."""

from __future__ import annotations

from engine.errors import PermissionDeniedError
from engine.errors import Problem
from engine.records.csi import CSI
from engine.records.process import HumanTask
from engine.records.user import Role
from engine.records.user import User

CASE_READERS = frozenset(
    {
        Role.SERVICE_DIRECTOR.value,
        Role.SERVICE_MANAGER.value,
        Role.SERVICE_SUPERVISOR.value,
        Role.SERVICE_ENGINEER.value,
        Role.ENGINEERING_QC.value,
        Role.SALES.value,
        Role.ADMIN.value,
    }
)


def may_read_cases(user: User) -> bool:
    """True for the roles that read every case; others see only the requests they registered themselves."""
    return bool(user.role_keys & CASE_READERS)


def can_view_case(user: User, csi: CSI) -> bool:
    """True for case-reading roles and for the colleague who registered (forwarded) the request (§4.1)."""
    return may_read_cases(user) or csi.registered_by == user.username


def check_can_view_case(user: User, csi: CSI) -> None:
    """Refuse users who may not see this case.

    :raises PermissionDeniedError: no reading role and not the registrant.
    """
    if not can_view_case(user, csi):
        raise PermissionDeniedError(Problem("case_forbidden", f"you may not view case {csi.csi_no}", case=csi.csi_no))


def check_can_release(user: User, task: HumanTask) -> None:
    """Releasing is for who may see the task (its lane, its assignee, the director) and for service supervisors,
    who give back anyone's task; others learn nothing about it, not even that it is unclaimed.

    :raises PermissionDeniedError: none of those.
    """
    roles = user.role_keys
    if task.lane in roles or task.assignee == user.username or roles & {Role.SERVICE_DIRECTOR, Role.SERVICE_SUPERVISOR}:
        return
    raise PermissionDeniedError(
        Problem(
            "lane_role",
            f"task {task.bpmn_id} belongs to lane {task.lane}; you do not hold that role",
            task=task.bpmn_id,
            lane=task.lane,
        )
    )


def check_role(user: User, *roles: str) -> None:
    """Refuse users holding none of `roles`.

    :raises PermissionDeniedError: none of the roles.
    """
    if not user.role_keys.intersection(roles):
        raise PermissionDeniedError(
            Problem("roles_needed", "this action needs one of the roles: " + ", ".join(roles), roles=list(roles))
        )
