"""What an administrator does in the browser: upload last year's cases on the import page, watch the progress
bar run to the end, and read the summary with the failed rows (then download the error report). The import
runs in a background thread of the live server, as in production; data is committed for real."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from mediation_hub.auth.service import create_user
from mediation_hub.cases.models import Case
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.extensions import db
from mediation_hub.registry import service as registry
from mediation_hub.registry.models import OrgKind
from tests.browser_steps import PASSWORD
from tests.factories import valid_id_number
from tests.import_samples import row, sample_rows, write_xlsx

pytestmark = pytest.mark.browser
EXTRA_ROWS = 1200  # several batches, so the page polls a running import before it ends


def test_administrator_uploads_a_file_and_sees_progress_summary_and_failed_rows(
    page, sign_in, app, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    tag = uuid.uuid4().hex[:6]
    org = registry.create_organization(
        SYSTEM,
        {"name": f"导入测试调解委员会{tag}", "region_code": "110105", "kind": OrgKind.people_mediation_committee},
    )
    org_id, username = org.id, f"admin-{tag}"
    create_user(SYSTEM, username=username, password=PASSWORD, role=Role.admin)
    db.session.commit()
    rows = sample_rows(prefix=f"{tag}-J") + [
        row(f"{tag}-X{i:05d}", 申请人证件号码=valid_id_number(sequence=i % 1000)) for i in range(EXTRA_ROWS)
    ]
    path = write_xlsx(tmp_path / f"去年案件-{tag}.xlsx", rows)

    sign_in(username, PASSWORD)
    page.click("nav.mainnav >> text=导入案件")
    page.wait_for_selector("h1:has-text('导入历史案件')")
    page.select_option("#organization_id", str(org_id))
    page.fill("#source_system", f"old-{tag}")
    page.set_input_files("#file", str(path))
    page.click("button:has-text('开始导入')")

    page.wait_for_selector("h1:has-text('导入 去年案件')")
    page.wait_for_selector("#import-summary", timeout=120_000)  # the page reloads itself when the import ends
    assert page.locator("#import-bar").get_attribute("value") == "100"
    assert page.locator("#import-percent").inner_text() == "100%"
    total = len(rows)
    summary = page.locator("#import-summary").inner_text()
    assert f"导入完成：共 {total} 行，导入 {total - 4} 行，跳过 0 行，失败 4 行。" in summary
    failed = page.locator("table.import-failures tbody tr")
    assert failed.count() == 4
    assert failed.nth(0).inner_text().split("\t") == ["4", f"{tag}-J003", "申请人证件号码", "身份证号码校验位错误"]
    assert failed.nth(3).inner_text().split("\t")[:3] == ["7", f"{tag}-J001", "原系统案号"]

    with page.expect_download() as download:
        page.click("text=下载错误报告 (csv)")
    report = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert report[0] == "行号,原系统案号,字段,原因" and len(report) == 5

    db.session.remove()
    imported = db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.organization_id == org_id))
    assert imported == total - 4
