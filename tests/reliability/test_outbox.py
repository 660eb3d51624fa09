"""The outbox delivers each message once (issue 10): two senders at once, a sender killed mid-batch, failures retried
with back-off until the dead-letter list; mail through a real SMTP server (aiosmtpd), webhooks signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from engine.clock import utcnow
from engine.config import PROJECT_ROOT
from engine.platform import outbox
from engine.platform.transports import DeliveryError
from engine.platform.transports import MailSettings
from engine.platform.transports import webhook_request
from engine.records.notification import Channel
from engine.records.notification import OutboxMessage
from engine.records.notification import WebhookEndpoint

MESSAGES = 40


class Sink:
    """An SMTP server that keeps the Message-ID of everything it accepts."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        text = envelope.content.decode("utf-8", "replace")
        found = next(
            (line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Message-ID:")), ""
        )
        with self.lock:
            self.ids.append(found)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, MailSettings]]:
    sink = Sink()
    with socket.socket() as probe:  # a free port for the server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, MailSettings(url=f"smtp://127.0.0.1:{port}", sender="service@example.com")
    finally:
        controller.stop()


def fill(sessions: Any, count: int = MESSAGES) -> list[int]:
    with sessions() as session, session.begin():
        messages = [
            outbox.enqueue(
                session,
                kind="task.created",
                channel=Channel.EMAIL,
                address=f"user{i}@example.com",
                subject=f"新任务 {i}",
                body="请处理",
            )
            for i in range(count)
        ]
        session.flush()
        return [m.id for m in messages if m is not None]


def statuses(sessions: Any) -> Counter[str]:
    with sessions() as session:
        return Counter(session.scalars(sa.select(OutboxMessage.status)))


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_two_senders_at_once_deliver_every_message_exactly_once(sessions, smtp):
    sink, mail = smtp
    ids = fill(sessions)
    deliver = outbox.transports(mail)
    reports: list[outbox.SendReport] = []
    threads = [threading.Thread(target=lambda: reports.append(outbox.send_due(sessions, deliver))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    sent = [i for r in reports for i in r.sent]
    split = [len(r.sent) for r in reports]
    print(f"RELIABILITY outbox senders=2 messages={len(ids)} delivered={len(sink.ids)} split={split}")
    assert sorted(sent) == sorted(ids) and len(set(sink.ids)) == len(sink.ids) == len(ids)
    assert statuses(sessions) == Counter({"sent": len(ids)})


SENDER = """
import sys
from engine.db import make_engine, make_session_factory
from engine.platform import outbox
from engine.platform.transports import MailSettings
sessions = make_session_factory(make_engine(sys.argv[1]))
deliver = outbox.transports(MailSettings(url=sys.argv[2], sender="service@example.com"))
while outbox.send_due(sessions, deliver, limit=1).sent:
    print("sent", flush=True)
"""


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_sender_killed_mid_batch_loses_nothing_and_the_next_one_finishes(sessions, smtp, db_url):
    sink, mail = smtp
    ids = fill(sessions)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", SENDER, db_url, mail.url], stdout=subprocess.PIPE, env=env, text=True
    )
    assert process.stdout is not None
    for _ in range(MESSAGES // 3):  # let it deliver a third of the batch, then kill it without warning
        process.stdout.readline()
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()
    before = len(sink.ids)
    report = outbox.send_due(sessions, outbox.transports(mail))
    received = Counter(sink.ids)
    repeated = sum(n - 1 for n in received.values())
    print(
        f"RELIABILITY outbox killed_after={before} finished_by_next={len(report.sent)} messages={len(ids)} "
        f"distinct_message_ids={len(received)} repeated={repeated}"
    )
    assert statuses(sessions) == Counter({"sent": len(ids)})
    assert len(received) == len(ids)  # every message arrived (receivers see each Message-ID once)
    assert repeated <= 1  # at most the one message the kill may have caught inside its SMTP handover


def test_failures_back_off_then_go_to_the_dead_letter_list_and_can_be_sent_again(sessions):
    [message_id] = fill(sessions, 1)
    calls: list[int] = []

    def down(_session: Any, message: OutboxMessage) -> None:
        calls.append(message.id)
        raise DeliveryError("SMTP: ConnectionRefusedError")

    now = utcnow()
    waits = []
    for _attempt in range(outbox.MAX_ATTEMPTS):
        report = outbox.send_due(sessions, down, now=now)
        assert report.retried or report.dead
        with sessions() as session:
            message = session.get(OutboxMessage, message_id)
            waits.append(message.next_attempt_at - now)
            now = message.next_attempt_at + timedelta(seconds=1)
        assert outbox.send_due(sessions, down, now=now - timedelta(seconds=2)).sent == []  # not before it is due
    assert len(calls) == outbox.MAX_ATTEMPTS
    assert waits[1] > waits[0] and max(waits[:-1]) <= outbox.LONGEST_RETRY + timedelta(seconds=5)
    with sessions() as session, session.begin():
        [dead] = outbox.dead_letters(session)
        assert dead.id == message_id and "ConnectionRefused" in (dead.last_error or "")
        outbox.send_again(session, message_id)
    assert outbox.send_due(sessions, lambda s, m: None, now=utcnow() + timedelta(seconds=1)).sent == [message_id]


def test_a_producer_retry_with_the_same_key_queues_nothing_twice(sessions):
    with sessions() as session, session.begin():
        first = outbox.enqueue(
            session,
            kind="sla.breached",
            channel=Channel.EMAIL,
            address="a@example.com",
            subject="s",
            body="b",
            dedupe_key="sla.breached:CSI-1",
        )
        session.flush()
        again = outbox.enqueue(
            session,
            kind="sla.breached",
            channel=Channel.EMAIL,
            address="a@example.com",
            subject="s",
            body="b",
            dedupe_key="sla.breached:CSI-1",
        )
    assert first is not None and again is None


def message(kind: str = "task.created") -> OutboxMessage:
    return OutboxMessage(
        id=7,
        kind=kind,
        subject="新任务",
        body="请处理 CSI-2026-000001",
        payload={"csi_no": "CSI-2026-000001"},
        created_at=utcnow(),
    )


def test_json_webhooks_are_signed_with_hmac_sha256_of_the_body():
    endpoint = WebhookEndpoint(name="erp", kind="json", url="https://erp.example/hook", secret="s3cret")
    url, body, headers = webhook_request(endpoint, message(), now=0)
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert url == endpoint.url and headers["X-Aftersales-Signature"] == f"sha256={expected}"
    assert headers["X-Aftersales-Delivery"] == "7" and json.loads(body)["data"]["csi_no"] == "CSI-2026-000001"


def test_dingtalk_robots_get_their_timestamp_and_signature_and_wecom_its_markdown():
    dingtalk = WebhookEndpoint(
        name="dt", kind="dingtalk", url="https://oapi.dingtalk.com/robot/send?access_token=x", secret="SEC"
    )
    url, body, _ = webhook_request(dingtalk, message(), now=1_700_000_000.0)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    stamp = query["timestamp"][0]
    digest = hmac.new(b"SEC", f"{stamp}\nSEC".encode(), hashlib.sha256).digest()
    assert query["sign"][0] == base64.b64encode(digest).decode() and stamp == "1700000000000"
    assert json.loads(body)["msgtype"] == "markdown"
    wecom = WebhookEndpoint(name="wx", kind="wecom", url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
    _, body, _ = webhook_request(wecom, message(), now=0)
    assert "CSI-2026-000001" in json.loads(body)["markdown"]["content"]


def test_a_webhook_is_delivered_to_a_real_http_endpoint_and_an_error_answer_is_retried(sessions):
    received: list[dict[str, Any]] = []
    answers = iter([b'{"errcode": 93000, "errmsg": "invalid webhook url"}', b'{"errcode": 0}'])

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            answer = next(answers)
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sessions() as session, session.begin():
            url = f"http://127.0.0.1:{server.server_address[1]}/robot"
            session.add(WebhookEndpoint(name="wx", kind="wecom", url=url, secret="", kinds=[], active=True))
            session.flush()
            outbox.enqueue(
                session, kind="sla.breached", channel=Channel.WEBHOOK, address="wx", subject="超期", body="x"
            )
        deliver = outbox.transports(MailSettings(url="", sender=""))
        first = outbox.send_due(sessions, deliver)
        later = outbox.send_due(sessions, deliver, now=utcnow() + timedelta(minutes=5))
    finally:
        server.shutdown()
        server.server_close()
    assert first.retried and later.sent and len(received) == 2


def test_no_smtp_server_configured_is_a_failure_with_a_reason(sessions):
    fill(sessions, 1)
    report = outbox.send_due(sessions, outbox.transports(MailSettings(url="", sender="")))
    with sessions() as session:
        [pending] = session.scalars(sa.select(OutboxMessage)).all()
    assert report.retried and "AFTERSALES_SMTP_URL" in (pending.last_error or "")
