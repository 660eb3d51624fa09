"""Every path test here runs twice: on the shipped workflows/ and on a copy whose every flow node id is renamed
(issue 7: behaviour comes from what the model declares, never from a task's id; the tests find the renamed tasks
through tests.helpers.model_id)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.config import PROJECT_ROOT
from engine.config import Settings
from engine.platform.definitions import read_directory
from tests import helpers
from tests.renaming import rename_flow_nodes


@pytest.fixture(params=["shipped", "renamed"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, db_url: str) -> Iterator[Settings]:
    """Settings whose workflows folder is the shipped one, or a copy with every flow node id renamed."""
    workflows = PROJECT_ROOT / "workflows"
    if request.param == "renamed":
        files, mapping = rename_flow_nodes(read_directory(workflows))
        workflows = tmp_path / "renamed-workflows"
        for name, data in files.items():
            (workflows / name).parent.mkdir(parents=True, exist_ok=True)
            (workflows / name).write_bytes(data)
        helpers.RENAMED.update(mapping)
    try:
        yield Settings(
            home=tmp_path / "home", database_url=db_url, secret_key="test-" + "x" * 40, workflows_dir=workflows
        )
    finally:
        helpers.RENAMED.clear()
