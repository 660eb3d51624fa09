"""Process, task and lane names in the reader's language (issue 11: bilingual models).

Chinese comes from each element's BPMN `name`; English from its `i18n:name-en` extension attribute
(engine.platform.model_names), then from the English title of the task's form, then the Chinese name; lanes are
labelled from the role table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import g

from engine.errors import EngineError
from engine.platform.definitions import parsed_bundle
from engine.platform.model_names import english_names
from engine.platform.model_names import localized_diagram
from engine.records.process import ProcessVersion
from web.context import db
from web.i18n import current_lang


def english_model_names(version_id: int) -> dict[str, str]:
    """Element id → English name in one deployed version (read once per request)."""
    cache: dict[int, dict[str, str]] = g.setdefault("model_names_en", {})
    if version_id not in cache:
        version = db().get(ProcessVersion, version_id)
        try:
            cache[version_id] = english_names(parsed_bundle(db(), version).files) if version is not None else {}
        except EngineError:
            cache[version_id] = {}
    return cache[version_id]


def model_name(version_id: int | None, element_id: str | None, name: str | None) -> str:
    """A process's or element's name in the current language (the Chinese name when no English one is given)."""
    if current_lang() != "en" or version_id is None or not element_id:
        return name or element_id or ""
    return english_model_names(version_id).get(element_id) or name or element_id


def diagram_for_reader(file_name: str, text: bytes | str, role_labels: Mapping[str, Any]) -> bytes | str:
    """A deployed BPMN file labelled for the reader: lanes by role label, elements in the reader's language."""
    labels = {key: str(value) for key, value in role_labels.items()}
    return localized_diagram(file_name, text, english=current_lang() == "en", lane_labels=labels)
