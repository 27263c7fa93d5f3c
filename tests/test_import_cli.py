"""``mediation-hub import cases``: progress on standard error, the summary, the error report, exit codes."""

from __future__ import annotations

import csv

import sqlalchemy as sa

from mediation_hub.cases.models import Case
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db
from tests.import_samples import HEADER, row, sample_rows, write_csv, write_xlsx


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=["import", "cases", *map(str, args)])


def imported_numbers(org_id: int) -> list[str]:
    return sorted(db.session.scalars(sa.select(Case.source_number).where(Case.organization_id == org_id)))


def test_import_command_prints_progress_and_summary_and_writes_the_report(app, make_org, tmp_path):
    org = make_org()
    path = write_xlsx(tmp_path / "cases.xlsx", sample_rows())
    result = invoke(
        app, path, "--organization", org.id, "--source-system", "county-x", "--errors", tmp_path / "errors.csv"
    )
    assert result.exit_code == 0, result.output
    assert "共 9 行: 导入 5, 跳过 0 (已导入过), 失败 4" in result.stdout
    assert f"失败的行及原因见 {tmp_path / 'errors.csv'}" in result.stdout
    assert "导入案件" in result.stderr  # the progress bar
    with open(tmp_path / "errors.csv", encoding="utf-8-sig", newline="") as handle:
        assert [r[:3] for r in csv.reader(handle)] == [
            ["行号", "原系统案号", "字段"],
            ["4", "J003", "申请人证件号码"],
            ["5", "J004", "登记日期"],
            ["6", "J005", "发生地行政区划代码"],
            ["7", "J001", "原系统案号"],
        ]
    assert imported_numbers(org.id) == ["J001", "J002", "J006", "J007", "J008"]

    again = invoke(app, path, "--organization", org.id, "--source-system", "county-x", "--workers", "2")
    assert again.exit_code == 0
    assert "共 9 行: 导入 0, 跳过 6 (已导入过), 失败 3" in again.stdout
    assert imported_numbers(org.id) == ["J001", "J002", "J006", "J007", "J008"]


def test_without_an_error_file_the_failures_go_to_standard_error(app, make_org, tmp_path):
    org = make_org()
    result = invoke(app, write_csv(tmp_path / "c.csv", sample_rows()), "--organization", org.id)
    assert result.exit_code == 0
    assert "第 4 行 [J003] 申请人证件号码: 身份证号码校验位错误" in result.stderr
    assert "第 7 行 [J001] 原系统案号: 与第 2 行的原系统案号重复" in result.stderr


def test_a_file_without_the_required_columns_exits_2_naming_them(app, make_org, tmp_path):
    org = make_org()
    header = [h for h in HEADER if h not in ("登记日期", "申请人姓名")]
    result = invoke(app, write_csv(tmp_path / "c.csv", [row("A1")], header=header), "--organization", org.id)
    assert result.exit_code == 2
    assert "缺少必需的列：登记日期、申请人姓名" in result.stderr
    assert imported_numbers(org.id) == []


def test_an_unknown_organisation_or_a_foreign_one_exits_2(app, make_org, make_user, tmp_path):
    path = write_csv(tmp_path / "c.csv", [row("A1")])
    result = invoke(app, path, "--organization", 999_999)
    assert result.exit_code == 2
    assert "organization_id: 请选择承办组织" in result.stderr

    mediator = make_user(role=Role.mediator)
    other = make_org()
    db.session.commit()  # a refused import rolls the session back; keep what the test built
    result = invoke(app, path, "--organization", other.id, "--user", mediator.username)
    assert result.exit_code == 2
    assert "只能为本组织导入案件" in result.stderr
    result = invoke(app, path, "--organization", mediator.organization_id, "--user", mediator.username)
    assert result.exit_code == 0 and "导入 1" in result.stdout
    imported = db.session.scalar(sa.select(Case).where(Case.organization_id == mediator.organization_id))
    assert imported.registered_by_id == mediator.id and imported.events[0].actor_name == mediator.username
