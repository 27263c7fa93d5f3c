"""What a mediator does in the browser with a long case list: click "导出 csv", land on the export's progress
page, watch the bar move while a background thread of the live server writes the file, then download it. The
threshold is 10 rows here (``EXPORT_STREAM_ROWS``) and every row is slowed down a little, so the page is seen
mid-way; data is committed for real (browser tests)."""

from __future__ import annotations

import time
import uuid

import pytest

from mediation_hub.cases.models import CaseStatus
from mediation_hub.exports import service as exports
from mediation_hub.extensions import db
from mediation_hub.registry.models import Organization
from tests.browser_steps import PASSWORD, committed_mediator

pytestmark = pytest.mark.browser
CASES = 25


def test_mediator_exports_a_long_list_watches_the_progress_and_downloads_the_file(
    page, sign_in, app, make_case, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "EXPORT_STREAM_ROWS", 10)
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path / "exports"))
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 5)
    rows = exports.case_rows

    def slow_rows(stmt, today):  # about 3 s for the list: the page polls a job that is still running
        for row in rows(stmt, today):
            time.sleep(0.12)
            yield row

    monkeypatch.setattr(exports, "case_rows", slow_rows)
    tag = uuid.uuid4().hex[:6]
    org_id, username, _ = committed_mediator(tag)
    org = db.session.get(Organization, org_id)
    numbers = {make_case(org, CaseStatus.registered, summary=f"导出测试 {tag}").number for _ in range(CASES)}
    db.session.commit()
    db.session.remove()  # hold no read open: SQLite would keep the live server's job from writing

    sign_in(username, PASSWORD)
    page.goto("/cases")
    page.click("a.export-csv")
    page.wait_for_selector("h1:has-text('导出案件列表')")
    assert "/exports/" in page.url
    page.wait_for_function(  # the bar moves while the file is written (polled by js/export.js)
        "() => Number(document.getElementById('export-rows').textContent) > 0"
        " && document.getElementById('export-bar').value < 100"
    )
    assert page.locator("#export-status").inner_text() == "生成中"
    assert page.locator("#export-download").count() == 0

    page.wait_for_selector("#export-download", timeout=60_000)  # the page reloads itself when the job ends
    assert page.locator("#export-bar").get_attribute("value") == "100"
    assert page.locator("#export-status").inner_text() == "已完成"
    assert f"文件已生成：共 {CASES} 行。" in page.locator("#export-ready").inner_text()
    with page.expect_download() as download:
        page.click("#export-download")
    assert download.value.suggested_filename.startswith("cases-") and download.value.suggested_filename.endswith(".csv")
    lines = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("案件编号,") and len(lines) == CASES + 1
    assert {line.split(",")[0] for line in lines[1:]} == numbers
