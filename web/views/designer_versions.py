"""Process designer: the versions of a process — history with the files each version runs on, diff, downloads,
retirement, and moving running instances to a newer version (routes on the designer blueprint)."""

from __future__ import annotations

from pathlib import PurePosixPath

from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.calendar import load_calendar
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.platform import designer
from engine.platform import version_migration
from engine.platform.admin_actions import check_reason
from engine.platform.deployment import definitions
from engine.platform.deployment import retire_process
from engine.platform.users import display_names
from web.auth import current_user
from web.context import app_context
from web.context import db
from web.params import MAX_ID
from web.params import version_arg
from web.params import whole_number
from web.security import as_download
from web.views.designer import bp
from web.views.designer import designer_only
from web.views.designer import file_order


@bp.get("/process/<process_id>/versions/<int:number>/download")
@designer_only
def download(process_id: str, number: int) -> Response:
    """The BPMN file of one version, named <file>.v<n>.bpmn."""
    session = db()
    version = designer.get_version(session, process_id, number)
    main = designer.main_file(session, version)
    text = designer.bundle_file(session, version.bundle_id, main)
    return as_download(text, f"{PurePosixPath(main).stem}.v{number}.bpmn", "application/xml")


@bp.get("/process/<process_id>/versions/<int:number>/bundle.zip")
@designer_only
def download_zip(process_id: str, number: int) -> Response:
    """Every file behind one version (BPMN, called processes, forms, DMN) as a zip."""
    session = db()
    version = designer.get_version(session, process_id, number)
    return as_download(designer.version_zip(session, version), f"{process_id}-v{number}.zip", "application/zip")


@bp.get("/process/<process_id>/history")
@designer_only
def history(process_id: str) -> str:
    """Every version with who deployed it when, its deploy note, the files it runs on, its instances and what changed
    against the one before; whether the process is retired, and the form to retire it."""
    session = db()
    entries = designer.history(session, process_id)
    files = {e.version.id: sorted(designer.version_files(session, e.version), key=file_order) for e in entries}
    definition = definitions(session, [process_id]).get(process_id)
    retired = definition if definition is not None and definition.retired_at is not None else None
    people = [e.version.deployed_by for e in entries] + ([retired.retired_by] if retired else [])
    return render_template(
        "designer/history.html",
        process_id=process_id,
        entries=entries,
        files=files,
        retired=retired,
        names=display_names(session, people),
    )


@bp.post("/process/<process_id>/retire")
@designer_only
def retire(process_id: str) -> Response:
    """Retire a process with the reason from the form: nothing new starts on it; running instances finish."""
    session = db()
    designer.get_version(session, process_id)  # 404 for a process never deployed
    try:
        retire_process(session, current_user().username, process_id, check_reason(request.form.get("reason")))
    except InvalidInputError:
        flash(_("Give a reason to retire the process."), "error")
        return redirect(url_for("designer.history", process_id=process_id, _anchor="retire"))
    except ConflictError:
        flash(_("This process is retired already."), "warning")
        return redirect(url_for("designer.history", process_id=process_id))
    session.commit()
    flash(
        _("“%(process)s” is retired: nothing new starts on it; running instances finish.", process=process_id),
        "success",
    )
    return redirect(url_for("designer.index"))


@bp.get("/process/<process_id>/diff")
@designer_only
def diff(process_id: str) -> str:
    """The changes between any two versions (`?from=a&to=b`)."""
    session = db()
    versions = designer.versions_of(session, process_id)
    new = designer.get_version(session, process_id, version_arg(request.args.get("to")))
    old = designer.get_version(session, process_id, version_arg(request.args.get("from")) or max(new.version - 1, 1))
    changes = designer.diff_versions(session, old, new)
    return render_template(
        "designer/diff.html", process_id=process_id, versions=versions, old=old, new=new, changes=changes
    )


@bp.get("/process/<process_id>/migration")
@designer_only
def migration(process_id: str) -> str:
    """Which unfinished instances on older versions can move to the target version (default: the latest)."""
    return _migration_page(process_id, version_arg(request.args.get("to")), report=None)


@bp.post("/process/<process_id>/migration")
@designer_only
def migrate(process_id: str) -> str:
    """Move the chosen instances, each in its own transaction; the page reports who moved and who did not."""
    session = db()
    target = designer.get_version(session, process_id, version_arg(request.form.get("to")))
    ids = [n for n in map(whole_number, request.form.getlist("instance")) if n is not None and 0 < n <= MAX_ID]
    if not ids:
        raise InvalidInputError(_("Choose at least one instance to move."), {"instance": "required"})
    session.commit()  # SQLite has one writer: every move opens its own transaction
    report = version_migration.migrate_instances(
        app_context().sessions,
        app_context().runtime,
        target.id,
        ids,
        actor=current_user().username,
        load_calendar=load_calendar,
    )
    return _migration_page(process_id, target.version, report=report)


def _migration_page(process_id: str, number: int | None, *, report: version_migration.MigrationReport | None) -> str:
    session = db()
    target = designer.get_version(session, process_id, number)
    versions = designer.versions_of(session, process_id)
    candidates = version_migration.migration_preview(session, app_context().runtime, target)
    old_names: dict[int, dict[str, str]] = {}
    for version in versions:
        if any(c.version == version.version for c in candidates):
            old_names[version.version] = designer.names_of(session, version)
    return render_template(
        "designer/migration.html",
        process_id=process_id,
        target=target,
        versions=versions,
        candidates=candidates,
        old_names=old_names,
        report=report,
    )
