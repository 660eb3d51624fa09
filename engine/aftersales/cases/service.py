"""Case use cases shared by the features: load a CSI for a step, and close it (§2.2, §4.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.records.csi import CSI
from engine.records.csi import CSIStatus


def get_case(session: Session, csi_id: Any) -> CSI:
    """The CSI with this id.

    :raises NotFoundError: no such CSI.
    """
    csi = session.get(CSI, int(csi_id)) if csi_id is not None else None
    if csi is None:
        raise NotFoundError(Problem("case_missing", f"CSI {csi_id} does not exist", case=csi_id))
    return csi


def close(csi: CSI, form: Mapping[str, Any]) -> None:
    """§2.2, §4.5: the case is closed with the filing location of its service archive and signed originals."""
    csi.archive_location = form["archive_location"]
    csi.closing_notes = form.get("closing_notes")
    csi.closed_at = utcnow()
    csi.status = CSIStatus.CLOSED.value
