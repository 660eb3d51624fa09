"""Deliver one outbox message: by SMTP, or by a webhook to WeCom, DingTalk or any system taking signed JSON.

Every call either delivers or raises DeliveryError with a reason worth showing on the dead-letter list. Mail carries
a Message-ID made from the outbox id, so a receiver can drop the one duplicate a sender killed after the SMTP
server accepted (but before it recorded) a message could cause. Standard library only (smtplib, urllib): both
protocols are small and a library would add nothing here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from engine.records.notification import OutboxMessage
from engine.records.notification import WebhookEndpoint
from engine.records.notification import WebhookKind

TIMEOUT_SECONDS = 10


class DeliveryError(Exception):
    """The message was not delivered; the sender retries later or, after the last attempt, gives up."""


@dataclass(frozen=True)
class MailSettings:
    """Where mail goes: `AFTERSALES_SMTP_URL` (smtp://user:pass@host:25, smtp+starttls://…, smtps://…) and the
    sender address `AFTERSALES_MAIL_FROM`."""

    url: str
    sender: str
    base_url: str = ""  # links in messages are relative; this makes them absolute

    def parts(self) -> urllib.parse.SplitResult:
        """The URL split into scheme, host, port, user and password."""
        return urllib.parse.urlsplit(self.url)


def send_mail(settings: MailSettings, message: OutboxMessage) -> None:
    """Hand one message to the SMTP server.

    :raises DeliveryError: not configured, refused or unreachable.
    """
    if not settings.url:
        raise DeliveryError("no SMTP server configured (AFTERSALES_SMTP_URL)")
    parts = settings.parts()
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = message.address
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<outbox-{message.id}@aftersales>"
    mail.set_content(with_link(message, settings.base_url))
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    try:
        client_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
        with client_class(parts.hostname or "localhost", port, timeout=TIMEOUT_SECONDS) as client:
            if parts.scheme == "smtp+starttls":
                client.starttls()
            if parts.username:
                client.login(urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or ""))
            client.send_message(mail)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP: {type(exc).__name__}: {exc}") from exc


def with_link(message: OutboxMessage, base_url: str) -> str:
    """The message's body with its link made absolute, when it has one."""
    link = (message.payload or {}).get("link")
    return f"{message.body}\n\n{base_url}{link}" if link else message.body


def post_webhook(endpoint: WebhookEndpoint, message: OutboxMessage, *, base_url: str = "") -> None:
    """Post one message to a chat group or system in the format its kind expects, signed where it can be.

    :raises DeliveryError: refused, unreachable or an error answer.
    """
    url, body, headers = webhook_request(endpoint, message, now=time.time(), base_url=base_url)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - configured URL
            answer = response.read(65536)
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"webhook {endpoint.name}: {exc}") from exc
    _check_chat_answer(endpoint, answer)


def webhook_request(
    endpoint: WebhookEndpoint, message: OutboxMessage, *, now: float, base_url: str = ""
) -> tuple[str, bytes, dict[str, str]]:
    """The URL, body and headers of one webhook call (separate from sending, so tests can check the signature)."""
    text = f"{message.subject}\n\n{with_link(message, base_url)}"
    headers = {"Content-Type": "application/json; charset=utf-8"}
    url = endpoint.url
    if endpoint.kind == WebhookKind.WECOM.value:
        payload: dict[str, Any] = {"msgtype": "markdown", "markdown": {"content": text}}
    elif endpoint.kind == WebhookKind.DINGTALK.value:
        payload = {"msgtype": "markdown", "markdown": {"title": message.subject, "text": text}}
        if endpoint.secret:  # DingTalk's signed robots: timestamp and HMAC-SHA256 of "timestamp\nsecret"
            stamp = str(int(now * 1000))
            digest = hmac.new(endpoint.secret.encode(), f"{stamp}\n{endpoint.secret}".encode(), hashlib.sha256)
            sign = urllib.parse.quote_plus(base64.b64encode(digest.digest()).decode())
            url += ("&" if "?" in url else "?") + f"timestamp={stamp}&sign={sign}"
    else:
        payload = {
            "id": message.id,
            "kind": message.kind,
            "subject": message.subject,
            "body": message.body,
            "data": message.payload or {},
            "created_at": message.created_at.isoformat(),
        }
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    if endpoint.kind == WebhookKind.JSON.value:
        headers["X-Aftersales-Delivery"] = str(message.id)
        if endpoint.secret:
            signature = hmac.new(endpoint.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Aftersales-Signature"] = f"sha256={signature}"
    return url, body, headers


def _check_chat_answer(endpoint: WebhookEndpoint, answer: bytes) -> None:
    """WeCom and DingTalk answer 200 with an error code in the body when they refuse a message."""
    if endpoint.kind == WebhookKind.JSON.value:
        return
    try:
        parsed = json.loads(answer.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return
    code = parsed.get("errcode", 0) if isinstance(parsed, dict) else 0
    if code not in (0, "0"):
        raise DeliveryError(f"webhook {endpoint.name}: errcode {code}: {parsed.get('errmsg', '')}")
