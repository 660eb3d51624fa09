"""Who is told what: a notice is a bell entry for each user concerned, an outbox mail for those with an e-mail
address who did not mute its kind, and an outbox webhook call for each chat endpoint that follows its kind — all
added to the transaction of the step that causes it.

Texts are chosen by the user's language (zh_Hans_CN first, English second); links are kept relative and made
absolute by the sender (AFTERSALES_BASE_URL).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import lazyload

from engine.clock import utcnow
from engine.platform.chat_directory import active_endpoints
from engine.platform.outbox import enqueue
from engine.records.notification import Channel
from engine.records.notification import Notice
from engine.records.user import User
from engine.records.user import UserRole


@dataclass(frozen=True)
class Text:
    """The subject and body of one kind in one language (str.format fields from the notice's parameters)."""

    subject: str
    body: str


TEXTS: Mapping[str, Mapping[str, Text]] = {
    "task.assigned": {
        "zh_Hans_CN": Text("新任务：{task}（{key}）", "您有一项新任务“{task}”，所属：{key}。"),
        "en": Text("New task: {task} ({key})", "A new task “{task}” is yours: {key}."),
    },
    "task.available": {
        "zh_Hans_CN": Text("待认领：{task}（{key}）", "您的角色有一项新任务“{task}”待认领，所属：{key}。"),
        "en": Text("To claim: {task} ({key})", "A new task “{task}” waits for your role: {key}."),
    },
    "task.returned": {
        "zh_Hans_CN": Text("任务退回：{task}（{key}）", "任务“{task}”已由 {actor} 退回角色队列，所属：{key}。"),
        "en": Text("Task returned: {task} ({key})", "“{task}” was given back to its role's queue by {actor}: {key}."),
    },
    "sla.reminder": {
        "zh_Hans_CN": Text(
            "方案即将超期：{key}", "{key} 的服务方案尚未确定，第4.6条期限为 {due}（3个工作日），请尽快评审。"
        ),
        "en": Text("Plan due soon: {key}", "The service plan of {key} is still undecided; §4.6 deadline {due}."),
    },
    "sla.breached": {
        "zh_Hans_CN": Text(
            "方案超期：{key}", "{key} 未在3个工作日内确定服务方案（第4.6条，期限 {due}），请主管说明原因。"
        ),
        "en": Text("Plan overdue: {key}", "{key} missed its §4.6 deadline ({due}); the supervisor records why."),
    },
}
LANGUAGES = ("zh_Hans_CN", "en")


def render(kind: str, lang: str, params: Mapping[str, Any]) -> Text:
    """The texts of a kind in a language (Chinese when the language is unknown), filled with the parameters."""
    texts = TEXTS[kind]
    text = texts.get(lang) or texts["zh_Hans_CN"]
    safe = {key: str(value) for key, value in params.items()}
    return Text(text.subject.format_map(_Blank(safe)), text.body.format_map(_Blank(safe)))


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "—"


def users_with_role(session: Session, role: str) -> list[User]:
    """Active users holding a role (one statement: their roles are not loaded unless read)."""
    query = (
        sa.select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == role, User.active)
        .options(lazyload(User.roles))
    )
    return list(session.scalars(query))


def users_named(session: Session, usernames: Iterable[str]) -> list[User]:
    """Active users by name (unknown names are skipped)."""
    names = sorted(set(usernames))
    if not names:
        return []
    query = sa.select(User).where(User.username.in_(names), User.active).options(lazyload(User.roles))
    return list(session.scalars(query))


def notify(
    session: Session,
    users: Iterable[User],
    kind: str,
    params: Mapping[str, Any],
    *,
    link: str | None = None,
    dedupe: str | None = None,
    bell: bool = True,
) -> int:
    """Tell each user (bell + mail) and each chat endpoint following `kind`; returns the users told. `bell=False`
    for news the inbox already shows (a task waiting for a role)."""
    now = utcnow()
    told = 0
    people = list(users)
    done = _already_told(session, people, dedupe) if dedupe and bell else set()
    for user in people:
        if user.username in done:
            continue
        text = render(kind, user.locale, params)
        if bell:
            key = f"{dedupe}:{user.username}" if dedupe else None
            session.add(
                Notice(
                    username=user.username,
                    kind=kind,
                    title=text.subject[:300],
                    link=link,
                    created_at=now,
                    dedupe_key=key,
                )
            )
        if user.email and kind not in (user.mail_muted or []):
            enqueue(
                session,
                kind=kind,
                channel=Channel.EMAIL,
                address=user.email,
                recipient=user.username,
                lang=user.locale,
                subject=text.subject,
                body=text.body,
                payload={"link": link} if link else None,
                dedupe_key=f"{dedupe}:{user.username}" if dedupe else None,
            )
        told += 1
    _to_chats(session, kind, params, link=link, dedupe=dedupe)
    return told


def _already_told(session: Session, users: list[User], dedupe: str) -> set[str]:
    """Users who already have the notice with this dedupe key (a job running twice tells nobody twice)."""
    keys = [f"{dedupe}:{u.username}" for u in users]
    if not keys:
        return set()
    return set(session.scalars(sa.select(Notice.username).where(Notice.dedupe_key.in_(keys))))


def _to_chats(session: Session, kind: str, params: Mapping[str, Any], *, link: str | None, dedupe: str | None) -> None:
    for endpoint in active_endpoints(session):
        if endpoint.kinds and kind not in endpoint.kinds:
            continue
        text = render(kind, "zh_Hans_CN", params)
        enqueue(
            session,
            kind=kind,
            channel=Channel.WEBHOOK,
            address=endpoint.name,
            subject=text.subject,
            body=text.body,
            payload={"link": link, **{k: str(v) for k, v in params.items()}},
            dedupe_key=f"{dedupe}:@{endpoint.name}" if dedupe else None,
        )


def tasks_created(session: Session, key: str, tasks: Iterable[Any]) -> None:
    """A step created user tasks: the assignee of each is told, or else every holder of its lane's role."""
    for task in tasks:
        params = {"task": task.name, "key": key}
        link, dedupe = f"/tasks/{task.id}", f"task:{task.id}"
        if task.assignee:
            notify(session, users_named(session, [task.assignee]), "task.assigned", params, link=link, dedupe=dedupe)
        elif task.lane:
            people = users_with_role(session, task.lane)
            notify(session, people, "task.available", params, link=link, dedupe=dedupe, bell=False)


def unread(session: Session, username: str, *, limit: int = 20) -> tuple[int, list[Notice]]:
    """How many notices the user has not read, and the newest ones."""
    where = sa.and_(Notice.username == username, Notice.read_at.is_(None))
    count = int(session.scalar(sa.select(sa.func.count()).select_from(Notice).where(where)) or 0)
    query = sa.select(Notice).where(Notice.username == username).order_by(Notice.id.desc()).limit(limit)
    newest = list(session.scalars(query))
    return count, newest


def mark_read(session: Session, username: str) -> int:
    """Mark every notice of the user read; returns how many were unread."""
    result = session.execute(
        sa.update(Notice)
        .where(Notice.username == username, Notice.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
