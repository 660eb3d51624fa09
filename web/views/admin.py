"""Administration pages, for the admin role only: users and their roles — list, create, enable or disable, change
roles, reset the password, and end every browser session and API token of a user (a disabled user or a changed
password ends them by itself). The supplier master (§5.5) is kept here too, by Sales and admins."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.aftersales.claims import suppliers as supplier_master
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import code_of
from engine.platform import outbox
from engine.platform import user_admin
from engine.platform.passwords import MAX_LENGTH
from engine.platform.passwords import MIN_LENGTH
from engine.platform.users import create_user
from engine.records.notification import OutboxMessage
from engine.records.user import Role
from engine.records.user import User
from web.auth import current_user
from web.auth import roles_required
from web.context import db
from web.forms import localize_error
from web.views import NOTICE_LABELS
from web.views import ROLE_LABELS
from web.views import install

bp = Blueprint("admin", __name__, url_prefix="/admin")
install(bp)
admin_only = roles_required(Role.ADMIN.value)
supplier_keepers = roles_required(*supplier_master.SUPPLIER_KEEPERS)
SUPPLIER_FIELDS = ("code", "name", "contact", "phone", "email")
ROLES = [role.value for role in Role]


def say(message: str) -> str:
    """An engine message about a user field in the current language (by its code when it carries one)."""
    if code_of(message) is not None:
        return localize_error(message)
    known = {
        "must not be the user name": _("The password must not be the user name."),
        "is one of the most common passwords; choose another": _(
            "This is one of the most common passwords; choose another."
        ),
        "at least one role is required": _("Choose at least one role."),
        "2–64 characters: lower-case letters, digits, _ . -": _("2–64 characters: lower-case letters, digits, _ . -"),
    }
    if message in known:
        return str(known[message])
    if message.startswith("must be at least"):
        return str(_("At least %(n)d characters.", n=MIN_LENGTH))
    if message.startswith("must be at most"):
        return str(_("At most %(n)d characters.", n=MAX_LENGTH))
    if message.endswith("already exists"):
        return str(_("This user name is taken."))
    if message.startswith("unknown role"):
        return str(_("Unknown role."))
    return message


@bp.get("/users")
@admin_only
def users() -> str:
    """Every user with state, roles and live sessions, and the form to add one."""
    return _render_list({}, {})


@bp.post("/users")
@admin_only
def create() -> Response | tuple[str, int]:
    """Add a user with roles and a first password."""
    form = request.form
    username = form.get("username", "").strip()
    try:
        password = _new_password()
        create_user(
            db(),
            username,
            password,
            form.getlist("role"),
            display_name=form.get("display_name", "").strip()[:128],
            actor=current_user().username,
        )
    except InvalidInputError as exc:
        db().rollback()
        return _render_list({k: say(v) for k, v in exc.fields.items()}, form.to_dict(flat=False)), 422
    db().commit()
    flash(_("User %(user)s added.", user=username), "success")
    return redirect(url_for("admin.user", username=username))


@bp.get("/users/<username>")
@admin_only
def user(username: str) -> str:
    """One user: roles, access, password reset and sessions."""
    return _render_user(user_admin.get_user(db(), username), {})


@bp.post("/users/<username>/roles")
@admin_only
def roles(username: str) -> Response | tuple[str, int]:
    """Replace the user's roles (they apply from the next page the user opens)."""
    return _change(username, lambda person: user_admin.set_roles(db(), person, request.form.getlist("role"), **_by()))


@bp.post("/users/<username>/active")
@admin_only
def active(username: str) -> Response | tuple[str, int]:
    """Enable or disable the user (`active=1|0`); disabling ends every session and token at once."""
    wanted = request.form.get("active") == "1"
    return _change(username, lambda person: user_admin.set_active(db(), person, wanted, **_by()))


@bp.post("/users/<username>/password")
@admin_only
def password(username: str) -> Response | tuple[str, int]:
    """Set a new password; every session and token of the user ends at once."""
    return _change(username, lambda person: user_admin.set_password(db(), person, _new_password(), **_by()))


@bp.post("/users/<username>/email")
@admin_only
def email(username: str) -> Response | tuple[str, int]:
    """Where the user's notices are mailed, and the kinds they do not want mailed."""
    address, muted = request.form.get("email", ""), request.form.getlist("muted")
    return _change(username, lambda person: user_admin.set_email(db(), person, address, muted, **_by()))


@bp.post("/users/<username>/revoke")
@admin_only
def revoke(username: str) -> Response | tuple[str, int]:
    """End every browser session and API token of the user now."""
    return _change(username, lambda person: user_admin.revoke_sessions(db(), person, **_by()))


@bp.get("/outbox")
@admin_only
def outbox_page() -> str:
    """Messages that could not be delivered (the dead-letter list) and the newest ones, with their state."""
    session = db()
    newest = session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(50))
    return render_template("admin/outbox.html", dead=outbox.dead_letters(session), newest=list(newest))


@bp.post("/outbox/<int:message_id>/send-again")
@admin_only
def send_again(message_id: int) -> Response:
    """Put an undeliverable message back in the queue (after the address or the server was fixed)."""
    outbox.send_again(db(), message_id)
    db().commit()
    flash(_("The message is queued again."), "success")
    return redirect(url_for("admin.outbox_page"))


def _by() -> dict[str, Any]:
    return {"actor": current_user().username}


def _new_password() -> str:
    """The new password from the form, typed twice.

    :raises InvalidInputError: the two entries differ (field `password2`).
    """
    entered = request.form.get("password", "")
    if entered != request.form.get("password2", ""):
        raise InvalidInputError("the passwords differ", {"password2": _("The two passwords differ.")})
    return entered


def _change(username: str, change: Any) -> Response | tuple[str, int]:
    """Apply one change to one user; refused input is shown on the user's page (422), nothing saved."""
    person = user_admin.get_user(db(), username)
    try:
        revoked = change(person)
    except InvalidInputError as exc:
        db().rollback()
        return _render_user(person, {k: say(v) for k, v in exc.fields.items()}), 422
    except ConflictError:
        db().rollback()
        flash(_("%(user)s is the last active administrator: keep at least one.", user=username), "error")
        return _render_user(person, {}), 409
    db().commit()
    flash(_("Saved.") if not revoked else _("Saved. %(n)d session(s) and token(s) ended.", n=revoked), "success")
    return redirect(url_for("admin.user", username=username))


def _render_list(errors: dict[str, str], values: dict[str, Any]) -> str:
    session = db()
    return render_template(
        "admin/users.html",
        users=user_admin.list_users(session),
        live=user_admin.live_sessions(session),
        roles=ROLES,
        role_labels=ROLE_LABELS,
        errors=errors,
        values=values,
        min_length=MIN_LENGTH,
    )


def _render_user(person: User, errors: dict[str, str]) -> str:
    live = user_admin.live_sessions(db()).get(person.id, user_admin.LiveSessions())
    return render_template(
        "admin/user.html",
        person=person,
        live=live,
        roles=ROLES,
        role_labels=ROLE_LABELS,
        errors=errors,
        min_length=MIN_LENGTH,
        is_me=person.id == current_user().id,
        mailed_kinds=user_admin.MAILED_KINDS,
        notice_labels=NOTICE_LABELS,
    )


@bp.get("/suppliers")
@supplier_keepers
def suppliers() -> str:
    """§5.5: the supplier master (active and inactive) and the form to add a supplier."""
    return _render_suppliers({}, {})


@bp.post("/suppliers")
@supplier_keepers
def create_supplier() -> Response | tuple[str, int]:
    """Add a supplier; refused input comes back with each field's problem (422), nothing saved."""
    values = {name: request.form.get(name, "") for name in SUPPLIER_FIELDS}
    try:
        supplier = supplier_master.create_supplier(db(), current_user(), values)
    except InvalidInputError as exc:
        db().rollback()
        return _render_suppliers({k: localize_error(v) for k, v in exc.fields.items()}, values), 422
    db().commit()
    flash(_("Supplier %(code)s added.", code=supplier.code), "success")
    return redirect(url_for("admin.suppliers"))


@bp.get("/suppliers/<code>")
@supplier_keepers
def supplier(code: str) -> str:
    """One supplier, to change its name, contact, phone, e-mail or whether new claims may name it."""
    return _render_supplier(supplier_master.get_supplier(db(), code), {})


@bp.post("/suppliers/<code>")
@supplier_keepers
def edit_supplier(code: str) -> Response | tuple[str, int]:
    """Save a supplier's changes (the code never changes); refused input comes back (422), nothing saved."""
    found = supplier_master.get_supplier(db(), code)
    body: dict[str, Any] = {name: request.form.get(name, "") for name in SUPPLIER_FIELDS[1:]}
    body["active"] = request.form.get("active") == "1"
    try:
        supplier_master.update_supplier(db(), current_user(), code, body)
    except InvalidInputError as exc:
        db().rollback()
        return _render_supplier(found, {k: localize_error(v) for k, v in exc.fields.items()}), 422
    db().commit()
    flash(_("Saved."), "success")
    return redirect(url_for("admin.suppliers"))


def _render_suppliers(errors: dict[str, str], values: dict[str, Any]) -> str:
    return render_template(
        "admin/suppliers.html", suppliers=supplier_master.list_suppliers(db()), errors=errors, values=values
    )


def _render_supplier(found: Any, errors: dict[str, str]) -> str:
    return render_template("admin/supplier.html", supplier=found, errors=errors)
