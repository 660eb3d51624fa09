"""The case conversation (issue 11): comments on a case in its timeline, @mentions telling colleagues who may see
the case (a bell notice through notify(), kind comment.mentioned), and the business / everything timeline filter."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from engine.clock import utcnow
from engine.platform.notices import render
from engine.records.notification import Notice
from engine.records.timeline import TimelineEvent
from tests.web.test_pages_flow import case_id  # noqa: F401 - fixture
from tests.web.test_pages_flow import manager  # noqa: F401 - fixture
from tests.web.test_pages_flow import submit
from tests.web.test_pages_flow import text_of


def test_a_comment_mentions_a_colleague_who_gets_a_notice(
    manager: Any,  # noqa: F811
    case_id: int,  # noqa: F811
    sessions: sessionmaker[Session],
) -> None:
    text = "@engineer 明天去现场请带上主轴轴承 <b>BRG-6205</b>；@hr 无权查看本案件"
    response = submit(manager, f"/cases/{case_id}", f"/cases/{case_id}/comments", {"comment": text})
    assert response.status_code == 302 and re.search(r"#comment-\d+$", response.headers["Location"])
    page = text_of(manager.get(f"/cases/{case_id}"))
    assert "已通知 赵工程师" in page and "吴人事" not in page.split("已通知")[1][:20]
    html = manager.get(f"/cases/{case_id}").get_data(as_text=True)
    assert '<strong class="mention">@engineer</strong>' in html and "&lt;b&gt;BRG-6205&lt;/b&gt;" in html
    with sessions() as s:
        notices = list(s.scalars(sa.select(Notice).where(Notice.kind == "comment.mentioned")))
        comment = s.scalars(sa.select(TimelineEvent).where(TimelineEvent.kind == "comment.added")).one()
    assert [n.username for n in notices] == ["engineer"]  # hr may not see the case: not told
    assert notices[0].title.startswith("李经理 在 CSI-") and notices[0].title.endswith("中提到了您")
    assert notices[0].link == f"/cases/{case_id}#comment-{comment.id}"
    assert comment.data == {"mentions": ["engineer"]} and comment.actor == "manager"


def test_the_mention_notice_reads_in_both_languages() -> None:
    params = {"actor": "李经理", "key": "CSI-2026-000001", "text": "请带上轴承"}
    assert "提到了您" in render("comment.mentioned", "zh_Hans_CN", params).subject
    assert render("comment.mentioned", "en", params).subject == "李经理 mentioned you on CSI-2026-000001"


def test_an_empty_comment_is_refused_in_chinese(manager: Any, case_id: int) -> None:  # noqa: F811
    response = submit(manager, f"/cases/{case_id}", f"/cases/{case_id}/comments", {"comment": "   "})
    assert response.status_code == 422 and "请填写此项" in text_of(response)


def test_the_timeline_shows_business_events_or_everything(manager: Any, case_id: int) -> None:  # noqa: F811
    submit(manager, f"/cases/{case_id}", f"/cases/{case_id}/comments", {"comment": "已电话联系顾客"})
    business = text_of(manager.get(f"/cases/{case_id}"))
    everything = text_of(manager.get(f"/cases/{case_id}?timeline=all"))
    timeline = lambda page: page.split('id="timeline"')[1]  # noqa: E731
    assert "已电话联系顾客" in timeline(business) and "已电话联系顾客" in timeline(everything)
    assert "生成任务" not in timeline(business) and "生成任务" in timeline(everything)
    assert "条例行记录" in business


def test_the_case_page_timeline_is_paged_from_the_newest(
    manager: Any,  # noqa: F811
    case_id: int,  # noqa: F811
    sessions: sessionmaker[Session],
) -> None:
    """Issue 12: the case page reads one page of its timeline (100 entries), so a long-lived case opens as fast."""
    with sessions() as s:
        for n in range(130):
            s.add(
                TimelineEvent(
                    csi_id=case_id, at=utcnow(), kind="comment.added", actor="manager", message=f"第{n:03d}条备注"
                )
            )
        s.commit()
    newest = text_of(manager.get(f"/cases/{case_id}"))
    assert "第129条备注" in newest and "第030条备注" in newest and "第029条备注" not in newest
    assert "较早的记录" in newest and "较新的记录" not in newest
    oldest = text_of(manager.get(f"/cases/{case_id}?tpage=2"))
    assert "第029条备注" in oldest and "第129条备注" not in oldest and "较新的记录" in oldest
    assert manager.get(f"/cases/{case_id}?tpage=0").status_code == 422
