"""Evidence where decisions are made (issue 11): the task pages show the case's attachments (§4.3: the customer's
written feedback goes to the review), and PDFs and images preview inline under a same-origin-only policy."""

from __future__ import annotations

import base64
from io import BytesIO
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from engine.records.process import HumanTask
from tests.web.test_pages_flow import PDF_BYTES
from tests.web.test_pages_flow import case_id  # noqa: F401 - fixture
from tests.web.test_pages_flow import manager  # noqa: F401 - fixture
from tests.web.test_pages_flow import submit
from tests.web.test_pages_flow import text_of

PNG_BYTES = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def attach(client: Any, case: int, name: str, data: bytes, kind: str) -> None:
    response = submit(
        client,
        f"/cases/{case}",
        f"/cases/{case}/attachments",
        {"kind": kind, "file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, text_of(response)


def test_pdf_and_image_preview_inline_and_others_do_not(manager: Any, case_id: int) -> None:  # noqa: F811
    attach(manager, case_id, "反馈.pdf", PDF_BYTES, "customer_feedback")
    attach(manager, case_id, "现场.png", PNG_BYTES, "photo")
    attach(manager, case_id, "说明.txt", "文字说明".encode(), "document")
    html = text_of(manager.get(f"/cases/{case_id}"))
    assert f'<iframe src="/cases/{case_id}/attachments/1/preview"' in html
    assert f'<img src="/cases/{case_id}/attachments/2/preview" alt="现场.png"' in html
    with manager.get(f"/cases/{case_id}/attachments/1/preview") as pdf:
        assert pdf.status_code == 200 and pdf.data == PDF_BYTES and pdf.headers["Content-Type"] == "application/pdf"
        assert pdf.headers["Content-Disposition"].startswith("inline")
        policy = pdf.headers["Content-Security-Policy"]
        assert pdf.headers["X-Frame-Options"] == "SAMEORIGIN" and "frame-ancestors 'self'" in policy
        assert "default-src 'none'" in policy
    with manager.get(f"/cases/{case_id}/attachments/2/preview") as image:
        assert image.headers["Content-Type"] == "image/png"
    with manager.get(f"/cases/{case_id}/attachments/3/preview") as text:
        assert text.status_code == 404  # text: a download only
    page = manager.get(f"/cases/{case_id}")
    assert page.headers["X-Frame-Options"] == "DENY"  # pages themselves are never framed


def test_the_task_page_shows_the_customers_written_feedback(
    manager: Any,  # noqa: F811
    case_id: int,  # noqa: F811
    sessions: sessionmaker[Session],
) -> None:
    attach(manager, case_id, "顾客来函.pdf", PDF_BYTES, "customer_feedback")
    with sessions() as s:
        task_id = s.scalars(sa.select(HumanTask.id).where(HumanTask.status == "open")).one()
    html = text_of(manager.get(f"/tasks/{task_id}"))
    assert 'id="evidence"' in html and "顾客来函.pdf" in html and "案件附件（第4.3条）" in html
    assert '<details class="att-preview" open>' in html  # the customer's feedback opens at once
