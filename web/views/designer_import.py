"""The steps of the designer's import page (routes in web/views/designer.py): read the upload, convert it with
the roles chosen so far, deploy when asked, and carry the uploaded files to the next step in one form field.

The files travel compressed, so that a model of a few hundred KB stays under the form-field size limit;
unpacking is capped, so a forged field cannot inflate beyond what an upload may hold.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass
from dataclasses import field
from pathlib import PurePosixPath
from typing import Any

from flask import request
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from engine.errors import DefinitionError
from engine.errors import InvalidInputError
from engine.platform import model_import
from engine.records.user import Role
from web.context import app_context
from web.views import ROLE_LABELS

MAX_FILES = 10


@dataclass
class Step:
    """What the page shows next (or the converted model to open in the modeler)."""

    page: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    opened: model_import.ImportResult | None = None


def blank_page() -> dict[str, Any]:
    """The template values of the upload form alone."""
    return {"sources": {}, "packed": "", "mapping": {}, "roles": role_choices()}


def run_step(session: Session, username: str) -> Step:
    """Convert the posted files with the posted roles, then do the posted action (convert, open or deploy).

    :raises InvalidInputError: nothing uploaded, too many or too large files, damaged carried files.
    """
    sources = posted_sources()
    mapping = {k: v for k, v in zip(request.form.getlist("group"), request.form.getlist("role"), strict=False) if v}
    step = Step({**blank_page(), "sources": sources, "packed": pack_sources(sources), "mapping": mapping})
    try:
        result = model_import.convert_for_deploy(
            session, sources, group_roles=mapping, catalog=app_context().runtime.catalog
        )
    except model_import.RoleMappingError as exc:
        return Step({**step.page, "questions": exc.questions}, 422)
    except DefinitionError as exc:
        return Step({**step.page, "problems": exc.problems}, 422)
    action = request.form.get("action", "convert")
    step.page["result"] = result
    if action == "open":
        step.opened = result
    elif action == "deploy" and result.ok:
        note = request.form.get("note", "")[:500]
        try:
            step.page["deployed"] = model_import.deploy_import(
                session, result, username=username, catalog=app_context().runtime.catalog, note=note
            )
        except DefinitionError as exc:
            session.rollback()
            return Step({**step.page, "problems": exc.problems}, 422)
        session.commit()
    return step


def posted_sources() -> dict[str, bytes]:
    """Uploaded files, else the packed files of the previous step.

    :raises InvalidInputError: nothing uploaded, too many or too large files, damaged carried files.
    """
    limit = app_context().settings.bpmn_max_bytes
    uploads = [f for f in request.files.getlist("file") if f.filename]
    if uploads:
        sources = {PurePosixPath(f.filename or "model.bpmn").name: f.read(limit + 1) for f in uploads}
    else:
        sources = unpack_sources(request.form.get("sources", ""), limit)
    if not sources:
        raise InvalidInputError(_("Choose a .bpmn, .bpmn20.xml or .dmn file."), {"file": "required"})
    if len(sources) > MAX_FILES or any(len(data) > limit for data in sources.values()):
        raise InvalidInputError(_("At most %(n)d files of %(size)d KB each.", n=MAX_FILES, size=limit // 1024))
    return sources


def modeler_values(result: model_import.ImportResult) -> dict[str, Any]:
    """The modeler's settings for a converted model: its text, its generated forms and its other files (DMN),
    all waiting to be deployed; the file name field shows the model's name, which the designer may change."""
    main = next((n for n in result.models if n.endswith(".bpmn")), "")
    texts = model_import.texts(result.files)
    forms = {
        PurePosixPath(n).name: {"schema": t, "ui": texts.get(n.replace(".schema.json", ".ui.json"), "{}")}
        for n, t in texts.items()
        if n.endswith(".schema.json")
    }
    return {
        "mode": "bpmn",
        "file": "",
        "sourceFile": main,
        "source": "",
        "sourceText": texts.get(main, ""),
        "importedForms": forms,
        "extraFiles": {n: t for n, t in texts.items() if n != main and not n.startswith("forms/")},
        "process_id": "",
        "version": 0,
        "latest": 0,
        "forms_used": sorted(forms),
    }


def role_choices() -> list[tuple[str, str]]:
    """(role key, label in the current language) for the role pickers."""
    return [(role.value, str(ROLE_LABELS.get(role.value, role.value))) for role in Role]


def pack_sources(sources: dict[str, bytes]) -> str:
    """File name -> content, as compressed base64 text for a hidden form field."""
    plain = json.dumps({name: data.decode("utf-8", "replace") for name, data in sources.items()})
    return base64.b64encode(zlib.compress(plain.encode("utf-8"), 9)).decode("ascii")


def unpack_sources(packed: str, limit: int) -> dict[str, bytes]:
    """The files of `pack_sources`, refusing more than ten times `limit` bytes in all.

    :raises InvalidInputError: the field is not what `pack_sources` wrote.
    """
    if not packed:
        return {}
    try:
        inflater = zlib.decompressobj()
        plain = inflater.decompress(base64.b64decode(packed, validate=True), 10 * limit)
        if inflater.unconsumed_tail:
            raise ValueError("too large")
        files = json.loads(plain.decode("utf-8"))
        return {str(name): str(text).encode("utf-8") for name, text in dict(files).items()}
    except (ValueError, TypeError, zlib.error, binascii.Error) as exc:
        raise InvalidInputError("the import's files were damaged: upload them again", {"file": "again"}) from exc
