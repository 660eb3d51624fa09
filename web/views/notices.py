"""The bell: my notices (a task given to me, §4.6 breaches and reminders), newest first, and marking them read."""

from __future__ import annotations

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import url_for
from werkzeug.wrappers import Response

from engine.platform import notices
from web.auth import current_user
from web.auth import login_required
from web.context import db
from web.views import NOTICE_LABELS
from web.views import install

bp = Blueprint("notices", __name__, url_prefix="/notices")
install(bp)


@bp.get("/")
@login_required
def index() -> str:
    """My newest notices; the unread ones are marked."""
    count, items = notices.unread(db(), current_user().username, limit=100)
    return render_template("notices/index.html", count=count, items=items, labels=NOTICE_LABELS)


@bp.post("/read")
@login_required
def read() -> Response:
    """Mark all my notices read."""
    notices.mark_read(db(), current_user().username)
    db().commit()
    return redirect(url_for("notices.index"))
