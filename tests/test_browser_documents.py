"""What a mediator does with the paperwork in the browser: open a concluded case, see which documents can be
printed and why the others cannot yet, download the agreement (full ID numbers: the handling organisation's,
audited) and print the whole 卷宗 with its 保管期限; committed for real (browser tests)."""

from __future__ import annotations

import io
import re
import uuid

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from mediation_hub.audit.models import AuditEntry
from mediation_hub.cases.models import CaseStatus
from mediation_hub.extensions import db
from mediation_hub.registry.models import Organization
from tests.browser_steps import PASSWORD, committed_mediator
from tests.factories_cases import person

pytestmark = pytest.mark.browser


def text_of(path) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages))


def test_mediator_downloads_the_agreement_and_prints_the_file(page, sign_in, make_case):
    tag = uuid.uuid4().hex[:6]
    org_id, username, _ = committed_mediator(tag)
    org = db.session.get(Organization, org_id)
    org.document_code = "浏测"
    applicant, respondent = person("applicant", f"王甲{tag}"), person("respondent", f"赵乙{tag}")
    case = make_case(org, CaseStatus.concluded, parties=[applicant, respondent])
    case_id, number = case.id, case.number
    db.session.commit()
    db.session.remove()  # hold no read open: SQLite would keep the live server from writing

    sign_in(username, PASSWORD)
    page.goto(f"/cases/{case_id}")
    documents = page.locator("section.documents")
    documents.scroll_into_view_if_needed()
    oral = documents.locator("li[data-kind=oral_agreement]")
    assert "本案为书面协议，请制作人民调解协议书" in oral.inner_text()
    assert oral.locator("a").count() == 0
    agreement = documents.locator("li[data-kind=agreement]")
    assert "含完整证件号码，下载记入审计日志" in agreement.inner_text()

    with page.expect_download() as download:
        agreement.locator("a.button").click()
    assert download.value.suggested_filename == f"人民调解协议书-{number}-v1.pdf"
    text = text_of(download.value.path())
    assert number in text and f"王甲{tag}" in text and f"赵乙{tag}" in text and "被申请人赔偿维修费" in text
    assert "（2026）浏测调字第1号" in text
    assert applicant["id_number"] in text  # the paper the parties sign carries the full numbers
    audited = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "document_with_numbers", AuditEntry.target_id == str(case_id))
    ).all()
    assert [entry.detail["kind"] for entry in audited] == ["agreement"]
    db.session.remove()

    file_row = documents.locator("li[data-kind=file]")
    file_row.locator("select[name=retention]").select_option("长期")
    with page.expect_download() as download:
        file_row.get_by_role("button", name="打印卷宗").click()
    pages = PdfReader(io.BytesIO(download.value.path().read_bytes())).pages
    cover = re.sub(r"\s+", "", pages[0].extract_text())
    assert "人民调解卷宗" in cover and "长期" in cover and "（2026）浏测调字第1号" in cover
    assert "卷内目录" in re.sub(r"\s+", "", pages[1].extract_text())
    assert len(pages) >= 6
