"""The `aftersales` command line: init, serve, worker, deploy, user add|list|disable|enable|set-password|revoke-tokens,
import, calendar (DESIGN.md "Command line")."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.claims.service import resume_open_claims
from engine.aftersales.demo import DEMO_PASSWORD
from engine.aftersales.demo import DEMO_USERS
from engine.aftersales.demo import load_demo
from engine.aftersales.importing import import_rows
from engine.aftersales.importing import read_rows
from engine.aftersales.review.sla import recompute_open_deadlines
from engine.bootstrap import build_runtime
from engine.calendar import clear_day
from engine.calendar import load_calendar
from engine.calendar import set_day
from engine.calendar import set_published_through
from engine.config import Settings
from engine.config import load_settings
from engine.db import make_engine
from engine.db import make_session_factory
from engine.errors import DefinitionError
from engine.errors import EngineError
from engine.errors import InvalidInputError
from engine.migrate import upgrade_database
from engine.platform import model_import
from engine.platform import user_admin
from engine.platform.definitions import read_directory
from engine.platform.deployment import deploy_files
from engine.platform.outbox import Deliver
from engine.platform.outbox import send_due
from engine.platform.outbox import transports
from engine.platform.starting import start_process
from engine.platform.transports import MailSettings
from engine.platform.users import create_user
from engine.records.calendar import DAY_KINDS
from engine.records.calendar import WORKING_DAY_KINDS
from engine.records.notification import WebhookEndpoint
from engine.records.notification import WebhookKind
from engine.records.user import User
from engine.worker import run_forever
from engine.worker import run_once


def _settings() -> Settings:
    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings


def _sessions(settings: Settings):  # type: ignore[no-untyped-def]
    return make_session_factory(make_engine(settings.database_url))


def configure_logging() -> None:
    """The server's log: INFO and above to stderr (every command, and bench/http.py's server, which must run as
    `aftersales serve` does)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group()
def main() -> None:
    """Aftersales BPM: after-sales service regulation as running BPMN processes."""
    configure_logging()


@main.command()
@click.option("--demo", is_flag=True, help="Also load demo master data and one demo user per role.")
def init(demo: bool) -> None:
    """Create or upgrade the database and deploy workflows/ (idempotent)."""
    settings = _settings()
    upgrade_database(settings.database_url)
    sessions = _sessions(settings)
    with sessions() as session:
        try:
            files = read_directory(settings.workflows_dir)
            result = deploy_files(session, files, actor="init", catalog=build_runtime().catalog)
        except DefinitionError as exc:
            _fail_definition(exc)
        loaded = load_demo(session, date.today()) if demo else False
        session.commit()
    for version in result.created:
        click.echo(f"deployed {version.process_id} v{version.version}")
    click.echo(f"database ready: {settings.database_url}")
    if loaded:
        click.echo(
            f"demo users (password {DEMO_PASSWORD}): "
            + ", ".join(f"{name} ({'/'.join(roles)})" for name, (_, roles) in DEMO_USERS.items())
        )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Do not run the embedded timer worker.")
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per serving process.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Serving processes (more than 1: gunicorn worker processes sharing the port, POSIX only).",
)
def serve(host: str, port: int, no_worker: bool, threads: int, workers: int) -> None:
    """Serve the web app and API with waitress, or with several worker processes (and the embedded timer worker)."""
    from web import create_app
    from web import ready_to_serve
    from web.serving import ServingError
    from web.serving import serve as serve_app

    settings = _settings()
    app = create_app(settings=settings)
    ready_to_serve(app)

    def timer_worker() -> Callable[[], None]:
        stop = threading.Event()
        worker = threading.Thread(
            target=run_forever,
            name="timer-worker",
            daemon=True,
            args=(_sessions(settings), build_runtime(), stop, settings.timer_poll_seconds, _deliver(settings)),
        )
        worker.start()
        return stop.set

    click.echo(f"serving on http://{host}:{port}" + (f" with {workers} worker processes" if workers > 1 else ""))
    try:
        serve_app(
            app, host=host, port=port, threads=threads, workers=workers, on_worker=None if no_worker else timer_worker
        )
    except ServingError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.option("--once", is_flag=True, help="Advance what is due now and exit.")
def worker(once: bool) -> None:
    """Run the timer worker standalone (any number may run at once); it also delivers the outbox."""
    settings = _settings()
    sessions, runtime = _sessions(settings), build_runtime()
    if once:
        click.echo(f"advanced {run_once(sessions, runtime, _deliver(settings))} instance(s)")
        return
    run_forever(sessions, runtime, threading.Event(), settings.timer_poll_seconds, _deliver(settings))


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due now and exit.")
def notify(once: bool) -> None:
    """Deliver the outbox (mail and chat webhooks): each message once, with retries and a dead-letter list."""
    settings = _settings()
    sessions, deliver = _sessions(settings), _deliver(settings)
    while True:
        report = send_due(sessions, deliver)
        click.echo(f"sent {len(report.sent)}, retrying {len(report.retried)}, undeliverable {len(report.dead)}")
        if once:
            return
        threading.Event().wait(settings.timer_poll_seconds)


def _deliver(settings: Settings) -> Deliver:
    return transports(MailSettings(url=settings.smtp_url, sender=settings.mail_from, base_url=settings.base_url))


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def deploy(path: Path) -> None:
    """Validate and deploy a BPMN/DMN/form file or a folder of them; errors are printed as file:line."""
    settings = _settings()
    files = read_directory(path) if path.is_dir() else {path.name: path.read_bytes()}
    with _sessions(settings)() as session:
        try:
            result = deploy_files(session, files, actor="cli", catalog=build_runtime().catalog)
        except DefinitionError as exc:
            _fail_definition(exc)
        session.commit()
    for version in result.created:
        click.echo(f"deployed {version.process_id} v{version.version} ({version.sha256[:12]})")
    for version in result.unchanged:
        click.echo(f"unchanged {version.process_id} v{version.version}")
    for note in result.notes:
        click.echo(f"note: {note}")


@main.command()
@click.argument("process_id")
@click.option("--as", "username", required=True, help="The user who starts it (needs the start lane's role).")
@click.option("--data", "data_json", default="{}", help="The start data as a JSON object (checked by the start form).")
def start(process_id: str, username: str, data_json: str) -> None:
    """Start the latest version of a deployed process, as the web page and the API do."""
    try:
        data = json.loads(data_json)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from exc
    settings = _settings()
    with _sessions(settings)() as session:
        actor = session.scalars(sa.select(User).where(User.username == username, User.active.is_(True))).first()
        if actor is None:
            click.echo(f"no active user {username!r}", err=True)
            sys.exit(1)
        try:
            started = start_process(
                session, build_runtime(), actor, process_id, data, calendar=lambda: load_calendar(session)
            )
        except InvalidInputError as exc:
            for name, message in (exc.fields or {"data": str(exc)}).items():
                click.echo(f"{name}: {message}", err=True)
            sys.exit(1)
        except EngineError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        session.commit()
        instance = started.instance
        key = instance.business_key or "-"
        click.echo(f"started {process_id} v{started.version.version} instance {instance.id} ({key})")
        for task in started.next_tasks:
            click.echo(f"  waits at {task.bpmn_id} ({task.name}) for {task.assignee or task.lane}")


@main.group()
def claims() -> None:
    """Supplier claims (§5.5)."""


@claims.command("resume")
def claims_resume() -> None:
    """Start the claim process for every open supplier claim without one (claims left open before the upgrade)."""
    settings = _settings()
    with _sessions(settings)() as session:
        resumed = resume_open_claims(session, build_runtime(), actor="cli", calendar=lambda: load_calendar(session))
        session.commit()
    click.echo(f"resumed {len(resumed)} claim(s)" + (": " + ", ".join(resumed) if resumed else ""))


def _fail_definition(exc: DefinitionError) -> NoReturn:
    for problem in exc.problems:
        click.echo(str(problem), err=True)
    sys.exit(1)


@main.group()
def user() -> None:
    """Manage users."""


@user.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="Role key; repeat for several roles.")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
@click.option("--display-name", default="")
@click.option("--email", default="", help="Where the user's notices are mailed.")
def user_add(name: str, roles: tuple[str, ...], password_stdin: bool, display_name: str, email: str) -> None:
    """Add a user with one or more roles."""
    password = sys.stdin.readline().rstrip("\n")
    with _sessions(_settings())() as session:
        try:
            person = create_user(session, name, password, roles, display_name=display_name, actor="cli")
            if email:
                user_admin.set_email(session, person, email, actor="cli")
        except InvalidInputError as exc:
            _fail_fields(exc)
        session.commit()
    click.echo(f"user {name} added with roles {', '.join(roles)}")


@user.command("list")
def user_list() -> None:
    """List every user with state, roles and live browser sessions / API tokens."""
    with _sessions(_settings())() as session:
        found, live = user_admin.list_users(session), user_admin.live_sessions(session)
    for person in found:
        counts = live.get(person.id, user_admin.LiveSessions())
        state = "active" if person.active else "disabled"
        roles = ",".join(sorted(person.role_keys))
        click.echo(f"{person.username}\t{state}\t{roles}\tsessions={counts.web}\ttokens={counts.api}")


@user.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Disable a user: sign-in refused, every session and API token revoked at once."""
    revoked = _change_user(name, lambda session, person: user_admin.set_active(session, person, False, actor="cli"))
    click.echo(f"user {name} disabled; {revoked} session(s)/token(s) revoked")


@user.command("enable")
@click.argument("name")
def user_enable(name: str) -> None:
    """Enable a disabled user again."""
    _change_user(name, lambda session, person: user_admin.set_active(session, person, True, actor="cli"))
    click.echo(f"user {name} enabled")


@user.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the new password from standard input.")
def user_set_password(name: str, password_stdin: bool) -> None:
    """Set a new password (read from stdin); every session and API token of the user is revoked."""
    password = sys.stdin.readline().rstrip("\n")
    revoked = _change_user(
        name, lambda session, person: user_admin.set_password(session, person, password, actor="cli")
    )
    click.echo(f"password of {name} changed; {revoked} session(s)/token(s) revoked")


@user.command("set-email")
@click.argument("name")
@click.argument("email")
@click.option("--mute", "muted", multiple=True, help="A notice kind not to mail (e.g. task.available); repeat.")
def user_set_email(name: str, email: str, muted: tuple[str, ...]) -> None:
    """Set where a user's notices are mailed ("" for none) and the kinds they do not want mailed."""
    with _sessions(_settings())() as session:
        try:
            user_admin.set_email(session, user_admin.get_user(session, name), email, muted, actor="cli")
        except InvalidInputError as exc:
            _fail_fields(exc)
        session.commit()
    click.echo(f"notices of {name} are mailed to {email or '(nobody)'}")


@main.group()
def webhook() -> None:
    """Chat groups and systems that receive notices (WeCom, DingTalk, signed JSON)."""


@webhook.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in WebhookKind]), required=True)
@click.option("--url", required=True)
@click.option("--secret", default="", help="DingTalk signing secret, or the HMAC key of JSON endpoints.")
@click.option("--notice", "kinds", multiple=True, help="Only these notice kinds (default: all); repeat.")
def webhook_add(name: str, kind: str, url: str, secret: str, kinds: tuple[str, ...]) -> None:
    """Add or replace a webhook endpoint."""
    if not url.startswith(("https://", "http://")):
        raise click.BadParameter("must be an http(s) URL", param_hint="--url")
    with _sessions(_settings())() as session:
        endpoint = session.get(WebhookEndpoint, name) or WebhookEndpoint(name=name)
        endpoint.kind, endpoint.url, endpoint.secret = kind, url, secret
        endpoint.kinds, endpoint.active = list(kinds), True
        session.add(endpoint)
        session.commit()
    click.echo(f"webhook {name} ({kind}) added")


@webhook.command("remove")
@click.argument("name")
def webhook_remove(name: str) -> None:
    """Stop sending to a webhook endpoint (queued messages to it become undeliverable)."""
    with _sessions(_settings())() as session:
        endpoint = session.get(WebhookEndpoint, name)
        if endpoint is None:
            click.echo(f"no webhook named {name!r}", err=True)
            sys.exit(1)
        endpoint.active = False
        session.commit()
    click.echo(f"webhook {name} removed")


@user.command("revoke-tokens")
@click.argument("name")
def user_revoke_tokens(name: str) -> None:
    """Revoke every browser session and API token of a user now."""
    revoked = _change_user(name, lambda session, person: user_admin.revoke_sessions(session, person, actor="cli"))
    click.echo(f"{revoked} session(s)/token(s) of {name} revoked")


def _change_user(name: str, change: Callable[[Session, User], int | None]) -> int:
    """Run one change on one user in one transaction; a refused change exits 1 with the reason."""
    with _sessions(_settings())() as session:
        try:
            result = change(session, user_admin.get_user(session, name))
        except InvalidInputError as exc:
            _fail_fields(exc)
        except EngineError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        session.commit()
    return result or 0


@main.command("import")
@click.argument("kind", type=click.Choice(["customers", "products", "sales-orders"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(kind: str, file: Path) -> None:
    """Import a UTF-8 CSV; a bad row is reported with its line number and nothing is imported."""
    with _sessions(_settings())() as session:
        try:
            rows = read_rows(kind, file.read_bytes())
            with click.progressbar(length=len(rows), label=f"importing {kind}") as bar:
                result = import_rows(session, kind, rows, progress=lambda _n: bar.update(1))
        except InvalidInputError as exc:
            click.echo(f"{file}: {exc}", err=True)
            for where, message in exc.fields.items():
                click.echo(f"{file}: {where}: {message}", err=True)
            sys.exit(1)
        session.commit()
    click.echo(f"{result.rows} rows: {result.created} created, {result.updated} updated")


@main.group()
def calendar() -> None:
    """Edit the business calendar (overrides on top of the statutory Chinese calendar)."""


def _after_calendar_change(session: Session, actor: str) -> None:
    moved = recompute_open_deadlines(session, build_runtime(), lambda: load_calendar(session), actor=actor)
    session.commit()
    click.echo(f"§4.6 deadlines recomputed: {moved} open case(s) moved")


@calendar.command("set-day")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--kind", required=True, type=click.Choice(sorted(DAY_KINDS)))
@click.option("--name", default="", help="e.g. 国庆节调休上班")
def calendar_set_day(day: datetime, kind: str, name: str) -> None:
    """Mark one day (e.g. a make-up working day from the State Council notice, or a company closure)."""
    with _sessions(_settings())() as session:
        try:
            set_day(session, day.date(), kind in WORKING_DAY_KINDS, kind, name, "cli")
        except InvalidInputError as exc:
            _fail_fields(exc)
        _after_calendar_change(session, "cli")
    click.echo(f"{day.date().isoformat()} is now {kind}")


@calendar.command("clear-day")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def calendar_clear_day(day: datetime) -> None:
    """Remove an override so the statutory calendar applies again."""
    with _sessions(_settings())() as session:
        removed = clear_day(session, day.date(), "cli")
        _after_calendar_change(session, "cli")
    click.echo(f"override for {day.date().isoformat()} {'removed' if removed else 'did not exist'}")


@calendar.command("published-through")
@click.argument("year", type=int)
def calendar_published_through(year: int) -> None:
    """Declare the official holiday arrangement imported through YEAR; later deadlines are provisional."""
    with _sessions(_settings())() as session:
        try:
            set_published_through(session, year, "cli")
        except InvalidInputError as exc:
            _fail_fields(exc)
        _after_calendar_change(session, "cli")
    click.echo(f"calendar published through {year}")


@calendar.command("show")
@click.argument("month", type=click.DateTime(formats=["%Y-%m"]))
def calendar_show(month: datetime) -> None:
    """Print the working days of one month."""
    with _sessions(_settings())() as session:
        business = load_calendar(session)
    day = month.date()
    while day.month == month.month:
        click.echo(f"{day.isoformat()} {day.strftime('%a')} {'work' if business.is_workday(day) else 'rest'}")
        day += timedelta(days=1)


def _fail_fields(exc: InvalidInputError) -> NoReturn:
    for field, message in exc.fields.items():
        click.echo(f"{field}: {message}", err=True)
    sys.exit(1)


# ---- import-bpmn: models from Camunda Modeler, Flowable or Activiti (issue 7, item 4) ----------------------------


def _role_map(values: tuple[str, ...]) -> dict[str, str]:
    """`GROUP=ROLE` options as a mapping (the last '=' splits, so a group may contain one)."""
    mapping: dict[str, str] = {}
    for value in values:
        group, sep, role = value.rpartition("=")
        if not sep or not group.strip() or not role.strip():
            raise click.BadParameter(f"{value!r} is not GROUP=ROLE", param_hint="--map")
        mapping[group.strip()] = role.strip()
    return mapping


@main.command("import-bpmn")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "mappings", multiple=True, metavar="GROUP=ROLE", help="Role for a group, user or lane.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Default: ./imported/<stem>/")
@click.option("--deploy", is_flag=True, help="Deploy the converted files when nothing is left to fix.")
@click.option("--as", "username", help="The process designer the deploy is recorded for (with --deploy).")
def import_bpmn(
    files: tuple[Path, ...], mappings: tuple[str, ...], out: Path | None, deploy: bool, username: str | None
) -> None:
    """Convert BPMN (and DMN) made in Camunda 7, Flowable or Activiti into this engine's dialect and print the report.

    Exit 2 with the questions when a group needs a role; exit 1 when the converted files still need fixes.
    """
    if deploy and not username:
        raise click.UsageError("--deploy needs --as USER")
    sources = {path.name: path.read_bytes() for path in files}
    try:
        if deploy:
            with _sessions(_settings())() as session:
                result = model_import.convert_for_deploy(
                    session, sources, group_roles=_role_map(mappings), catalog=build_runtime().catalog
                )
                _write_import(result, out or Path("imported") / _import_stem(files[0]))
                if result.ok:
                    _deploy_import(session, result, username or "")
        else:
            result = model_import.convert_alone(
                sources, group_roles=_role_map(mappings), catalog=build_runtime().catalog
            )
            _write_import(result, out or Path("imported") / _import_stem(files[0]))
    except model_import.RoleMappingError as exc:
        click.echo("these groups, users or lanes need a role (nothing was written):", err=True)
        for question in exc.questions:
            click.echo(f"  {question}", err=True)
        click.echo("roles: " + ", ".join(sorted(model_import.ROLE_KEYS)), err=True)
        sys.exit(2)
    except DefinitionError as exc:
        _fail_definition(exc)
    if not result.ok:
        sys.exit(1)


def _import_stem(path: Path) -> str:
    name = path.name
    for suffix in (".bpmn20.xml", ".bpmn", ".xml", ".dmn"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _write_import(result: model_import.ImportResult, folder: Path) -> None:
    for note in result.report:
        click.echo(str(note))
    for name, data in result.files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    errors = sum(1 for n in result.report if n.severity == "error")
    click.echo(f"wrote {len(result.files)} file(s) to {folder}" + (f"; {errors} error(s) to fix" if errors else ""))


def _deploy_import(session: Session, result: model_import.ImportResult, username: str) -> None:
    try:
        deployed = model_import.deploy_import(session, result, username=username, catalog=build_runtime().catalog)
    except DefinitionError as exc:
        _fail_definition(exc)
    except EngineError as exc:  # no such user, or not a process designer
        click.echo(str(exc), err=True)
        sys.exit(1)
    session.commit()
    for version in deployed.created:
        click.echo(f"deployed {version.process_id} v{version.version} ({version.sha256[:12]})")
    for version in deployed.unchanged:
        click.echo(f"unchanged {version.process_id} v{version.version}")
