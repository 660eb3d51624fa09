"""Bring models made in Camunda Modeler, Flowable or Activiti into the product: convert, check as a deploy would,
then deploy (DESIGN.md issue 7, item 4).

The conversion itself is pure (`engine.bpmn.importer`); this module adds what needs the database: the roles and
operators the deploy lint knows, the deployed bundle the result is checked against, the form names that must
not be replaced, and the deploy.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.catalog import Catalog
from engine.bpmn.importer import ImportResult
from engine.bpmn.importer import RoleMappingError
from engine.bpmn.importer import import_files
from engine.bpmn.lint import lint_bundle
from engine.errors import DefinitionProblem
from engine.errors import NotFoundError
from engine.errors import PermissionDeniedError
from engine.platform import designer
from engine.platform.deployment import DeployResult
from engine.platform.deployment import declarations
from engine.platform.deployment import repository_files
from engine.records.user import ROLE_KEYS
from engine.records.user import Role
from engine.records.user import User

__all__ = [
    "ROLE_KEYS",
    "ImportResult",
    "RoleMappingError",
    "convert_alone",
    "convert_for_deploy",
    "deploy_import",
    "deployed_forms",
    "texts",
]


def convert_alone(files: Mapping[str, bytes], *, group_roles: Mapping[str, str], catalog: Catalog) -> ImportResult:
    """Convert and check the result on its own (no database: what the command line does before a deploy).

    :raises DefinitionError: a file is not well-formed or not BPMN/DMN.
    :raises RoleMappingError: a group, user or lane needs a role.
    """

    def lint(out: Mapping[str, bytes]) -> list[DefinitionProblem]:
        return lint_bundle(out, catalog=catalog)

    return import_files(files, group_roles=group_roles, roles=catalog.roles, lint=lint)


def convert_for_deploy(
    session: Session, files: Mapping[str, bytes], *, group_roles: Mapping[str, str], catalog: Catalog
) -> ImportResult:
    """Convert and check the result as its deploy would, never replacing a form another process uses.

    :raises DefinitionError: a file is not well-formed or not BPMN/DMN.
    :raises RoleMappingError: a group, user or lane needs a role.
    """

    def lint(out: Mapping[str, bytes]) -> list[DefinitionProblem]:
        return designer.validate_edits(session, texts(out), catalog)

    deployed = deployed_forms(session)
    return import_files(files, group_roles=group_roles, roles=catalog.roles, deployed_forms=deployed, lint=lint)


def deployed_forms(session: Session) -> dict[str, set[str]]:
    """Form file names in the repository -> the deployed files' processes whose tasks name them."""
    files = repository_files(session)
    users: dict[str, set[str]] = {PurePosixPath(n).name: set() for n in files if n.endswith(".json")}
    for name, text in files.items():
        found = declarations(name, text)
        for form in found.forms:
            users.setdefault(PurePosixPath(form).name, set()).update(found.executable)
    return users


def deploy_import(
    session: Session, result: ImportResult, *, username: str, catalog: Catalog, note: str = ""
) -> DeployResult:
    """Deploy converted files as new versions, as a process designer would from the designer.

    :raises NotFoundError: no such user. :raises PermissionDeniedError: the user is not a process designer.
    :raises DefinitionError: the deploy lint refuses the files (nothing is written).
    """
    user = session.scalars(sa.select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise NotFoundError(f"no active user {username!r}")
    if Role.PROCESS_DESIGNER.value not in user.role_keys:
        raise PermissionDeniedError(f"{username} is not a process designer")
    note = note or f"imported from {', '.join(result.models)}"
    return designer.deploy_edits(session, texts(result.files), actor=username, catalog=catalog, note=note)


def texts(files: Mapping[str, bytes]) -> dict[str, str]:
    """The converted files as the text the designer's editors and deploy take."""
    return {name: data.decode("utf-8") for name, data in files.items()}
