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
    "digest.daily": {
        "zh_Hans_CN": Text(
            "每日摘要 {date}：在办 {open}，今明到期 {due_today}/{due_tomorrow}，超期 {breached}",
            "在办案件 {open}：已登记 {registered}，根因分析 {analysing}，评审中 {under_review}，"
            "方案已定 {plan_decided}，派工中 {dispatching}，服务中 {in_execution}，待结案 {awaiting_closure}。\n"
            "服务方案今日到期 {due_today}，明日到期 {due_tomorrow}（第4.6条）。\n"
            "已超期未定方案 {breached}：{breached_list}。\n"
            "未关闭质量反馈单 {open_qf}（第5.6条），未结供应商索赔 {open_claims}（第5.5条）。",
        ),
        "en": Text(
            "Daily digest {date}: {open} open, due {due_today} today / {due_tomorrow} tomorrow, {breached} overdue",
            "Open cases {open}: registered {registered}, analysing {analysing}, under review {under_review}, "
            "plan decided {plan_decided}, dispatching {dispatching}, in service {in_execution}, "
            "awaiting closure {awaiting_closure}.\n"
            "Service plans due today {due_today}, tomorrow {due_tomorrow} (§4.6).\n"
            "Overdue without a plan {breached}: {breached_list}.\n"
            "Open quality feedback {open_qf} (§5.6), open supplier claims {open_claims} (§5.5).",
        ),
    },
    "request.received": {
        "zh_Hans_CN": Text(
            "新的客户请求：{key}", "{company} 的 {contact} 通过客户服务页提交了请求 {key}，请登记CSI（第4.1条）。"
        ),
        "en": Text("New customer request: {key}", "{contact} ({company}) sent request {key}; register its CSI (§4.1)."),
    },
    "survey.dissatisfied": {
        "zh_Hans_CN": Text(
            "客户不满意：{key}", "客户在满意度调查（QAHRC0807C）中对 {key} 表示不满意，请跟进（第5.8条）。"
        ),
        "en": Text(
            "Customer dissatisfied: {key}", "The customer's QAHRC0807C survey of {key} says dissatisfied (§5.8)."
        ),
    },
    "customer.registered": {
        "zh_Hans_CN": Text(
            "您的服务请求已登记：{key}",
            "您好，您的请求已登记为 {key}。我们将在3个工作日内确定服务方案。进度请见以下链接：",
        ),
        "en": Text(
            "Your service request is registered: {key}",
            "Your request is registered as {key}. We decide the service plan within 3 working days. Follow it here:",
        ),
    },
    "customer.answered": {
        "zh_Hans_CN": Text("服务方案已确定：{key}", "您好，{key} 的服务方案如下：\n{plan}\n进度请见以下链接："),
        "en": Text("Your service plan: {key}", "The service plan for {key}:\n{plan}\nFollow the case here:"),
    },
    "customer.survey": {
        "zh_Hans_CN": Text(
            "请评价本次服务：{key}",
            "感谢您接受 {visit} 的现场服务（{key}）。请通过以下链接填写满意度调查（QAHRC0807C）：",
        ),
        "en": Text(
            "How was our service? {key}",
            "Thank you for the visit of {visit} ({key}). Please tell us what you think (QAHRC0807C):",
        ),
    },
    "case.escalated": {
        "zh_Hans_CN": Text(
            "现场问题升级：{key}", "{key} 经过多次技术支持仍未解决，将进行第 {rounds} 轮上门服务（第5.8条），请关注。"
        ),
        "en": Text(
            "Escalated: {key}", "{key} is still unsolved after technical support; visit round {rounds} follows (§5.8)."
        ),
    },
    "case.end_proposed": {
        "zh_Hans_CN": Text(
            "建议终止服务待审批：{key}",
            "{who} 建议在顾客未同意的情况下终止 {key} 的服务（第5.8条），理由：{reason}。请审批。",
        ),
        "en": Text(
            "End of service proposed: {key}",
            "{who} proposes to end the service of {key} without the customer's agreement (§5.8): {reason}. "
            "Please approve or reject.",
        ),
    },
    "qf.overdue": {
        "zh_Hans_CN": Text(
            "质量反馈单待处理：{record}",
            "{key} 的质量问题反馈单 {record}（QAHRC0722C）已超过 {days} 个工作日未关闭（第5.6条）。",
        ),
        "en": Text(
            "Quality feedback overdue: {record}",
            "{record} (QAHRC0722C) of {key} is open after {days} working days (§5.6).",
        ),
    },
    "claim.overdue": {
        "zh_Hans_CN": Text(
            "供应商索赔待处理：{record}", "{key} 的供应商索赔 {record} 已超过 {days} 个工作日未结（第5.5条）。"
        ),
        "en": Text(
            "Supplier claim overdue: {record}",
            "Supplier claim {record} of {key} is open after {days} working days (§5.5).",
        ),
    },
    "customer.closed": {
        "zh_Hans_CN": Text("服务案件已结案：{key}", "您好，{key} 已结案。感谢您的配合。记录请见以下链接："),
        "en": Text(
            "Your service case is closed: {key}", "{key} is closed. Thank you. The record stays available here:"
        ),
    },
    "comment.mentioned": {
        "zh_Hans_CN": Text("{actor} 在 {key} 中提到了您", "{actor} 在案件 {key} 的讨论中提到了您：“{text}”"),
        "en": Text("{actor} mentioned you on {key}", "{actor} mentioned you in the conversation on {key}: “{text}”"),
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


_USERS_WITH_ROLE = (  # built once: every step that opens a task asks it
    sa.select(User)
    .join(UserRole, UserRole.user_id == User.id)
    .where(UserRole.role == sa.bindparam("role"), User.active)
    .options(lazyload(User.roles))
)
_USERS_NAMED = (
    sa.select(User)
    .where(User.username.in_(sa.bindparam("names", expanding=True)), User.active)
    .options(lazyload(User.roles))
)


def users_with_role(session: Session, role: str) -> list[User]:
    """Active users holding a role (one statement: their roles are not loaded unless read)."""
    return list(session.scalars(_USERS_WITH_ROLE, {"role": role}))


def users_named(session: Session, usernames: Iterable[str]) -> list[User]:
    """Active users by name (unknown names are skipped)."""
    names = sorted(set(usernames))
    if not names:
        return []
    return list(session.scalars(_USERS_NAMED, {"names": names}))


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
