"""The bulk import of historical cases: exact failures with sheet row numbers, the good rows in with their history
and masked parties, rates over the imported history, idempotent re-runs, headers, encodings and permissions."""

from __future__ import annotations

import csv
from datetime import date

import pytest
import sqlalchemy as sa

from mediation_hub.cases.models import Case, CaseEvent, CaseStatus, Outcome, Party, PartyKind
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.pii import mask_id_number
from mediation_hub.errors import PermissionDenied, ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.imports import service as imports
from mediation_hub.imports.readers import UnusableFile
from mediation_hub.registry.models import OrgKind
from mediation_hub.reporting.service import rates_report
from tests.factories import valid_id_number
from tests.import_samples import HEADER, row, sample_rows, write_csv, write_xlsx

WRITERS = {"csv": write_csv, "xlsx": write_xlsx}

# The four failures of sample_rows(), as the error report lists them (row numbers as the sheet shows them).
EXPECTED_FAILURES = [
    ["4", "J003", "申请人证件号码", "身份证号码校验位错误"],
    ["5", "J004", "登记日期", "日期不存在：2025-02-30"],
    ["6", "J005", "发生地行政区划代码", "未知的行政区划代码 119999"],
    ["7", "J001", "原系统案号", "与第 2 行的原系统案号重复"],
]


def read_report(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def counts(org_id: int) -> tuple[int, int, int]:
    case_ids = sa.select(Case.id).where(Case.organization_id == org_id)
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.organization_id == org_id)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Party).where(Party.case_id.in_(case_ids))),
        db.session.scalar(sa.select(sa.func.count()).select_from(CaseEvent).where(CaseEvent.case_id.in_(case_ids))),
    )


def by_source(org_id: int) -> dict[str, Case]:
    return {c.source_number: c for c in db.session.scalars(sa.select(Case).where(Case.organization_id == org_id))}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_import_reports_exact_rows_and_stores_the_good_ones(kind, make_org, tmp_path):
    org = make_org()
    rows = sample_rows()
    path = WRITERS[kind](tmp_path / f"cases.{kind}", rows)
    summary = imports.import_file(path, org.id, SYSTEM, source_system="old-system", errors_path=tmp_path / "err.csv")

    assert (summary.total, summary.imported, summary.skipped, summary.failed) == (9, 5, 0, 4)
    assert read_report(tmp_path / "err.csv") == [["行号", "原系统案号", "字段", "原因"], *EXPECTED_FAILURES]
    assert [[str(f.row), f.source_number, f.column, f.reason] for f in summary.failures] == EXPECTED_FAILURES

    cases = by_source(org.id)
    assert sorted(cases) == ["J001", "J002", "J006", "J007", "J008"]
    assert all(c.source_system == "old-system" for c in cases.values())
    # numbered in file order within the organisation's 2025 sequence
    assert cases["J001"].number == f"MH-110105-{org.id}-2025-000001"
    assert cases["J008"].number == f"MH-110105-{org.id}-2025-000005"

    agreed = cases["J001"]
    assert (agreed.status, agreed.outcome) == (CaseStatus.concluded, Outcome.agreement)
    assert (agreed.received_on, agreed.accepted_on, agreed.concluded_on) == (
        date(2025, 3, 3),
        date(2025, 3, 4),
        date(2025, 3, 20),
    )
    # 2025-03-04 + 30 days = Thu 2025-04-03, a working day
    assert agreed.due_on == date(2025, 4, 3)
    # 2025-03-20 + 30 days = Sat 2025-04-19, so the window ends on Monday 2025-04-21
    assert agreed.confirmation_deadline == date(2025, 4, 21)
    assert agreed.follow_up_due_on is None  # long past at import: no reminder for history
    assert (str(agreed.amount_yuan), str(agreed.agreement_amount_yuan)) == ("1500.00", "1200.00")
    assert agreed.agreement_terms == "被申请人赔偿维修费"
    assert [(e.code, e.on_date) for e in agreed.events] == [
        ("registered", date(2025, 3, 3)),
        ("accepted", date(2025, 3, 4)),
        ("concluded", date(2025, 3, 20)),
        ("imported", agreed.events[-1].on_date),
    ]
    assert agreed.events[0].data["number"] == agreed.number
    assert agreed.events[2].data == {
        "outcome": "agreement",
        "on_time": True,
        "confirmation_deadline": "2025-04-21",
        "agreement_amount_yuan": "1200.00",
    }
    assert agreed.events[-1].data["row"] == 2 and agreed.events[-1].data["source_number"] == "J001"

    declined = cases["J002"]
    assert (declined.status, declined.declined_on, declined.decline_reason) == (
        CaseStatus.declined,
        date(2025, 3, 3),
        "已起诉至法院",
    )
    assert cases["J006"].status == CaseStatus.registered and cases["J006"].due_on is None
    assert (cases["J007"].status, cases["J007"].outcome) == (CaseStatus.concluded, Outcome.no_agreement)
    assert cases["J008"].status == CaseStatus.in_mediation
    # 2025-03-06 + 30 days = Sat 2025-04-05, inside the Qingming holiday (4–6 April): due Monday 2025-04-07
    assert cases["J008"].due_on == date(2025, 4, 7)

    applicant, _respondent = cases["J001"].parties
    assert applicant.name == "张J001" and applicant.kind == PartyKind.person
    assert applicant.id_number_masked == mask_id_number(rows[0]["申请人证件号码"])
    assert applicant.full_id_number() == rows[0]["申请人证件号码"]
    assert rows[0]["申请人证件号码"] not in (applicant.id_number_enc or "")
    assert applicant.phone_masked == "139****1111"
    company = cases["J006"].parties[1]
    assert (company.kind, company.id_number_masked) == (PartyKind.organization, "91110105******B3C4")


def test_rates_count_the_imported_history(make_org, tmp_path):
    org = make_org()
    imports.import_file(write_csv(tmp_path / "c.csv", sample_rows()), org.id, SYSTEM, source_system="old")
    report = rates_report(SYSTEM, organization_id=org.id, date_from=date(2025, 1, 1), date_to=date(2025, 12, 31))
    totals = report["totals"]
    # received: J001 J002 J006 J007 J008; accepted: J001 J007 J008; declined: J002;
    # concluded: J001 (agreement, 03-20 <= due 04-03) and J007 (no agreement, 03-31 <= due 04-07)
    assert {
        k: totals[k]
        for k in ("received", "accepted", "declined", "concluded", "agreement", "no_agreement", "concluded_on_time")
    } == {
        "received": 5,
        "accepted": 3,
        "declined": 1,
        "concluded": 2,
        "agreement": 1,
        "no_agreement": 1,
        "concluded_on_time": 2,
    }
    assert totals["success_rate"] == pytest.approx(1 / 2)  # agreement / concluded
    assert totals["completion_rate"] == pytest.approx(3 / 5)  # J001, J002, J007 done of 5 received
    assert totals["on_time_rate"] == pytest.approx(2 / 2)


def test_running_the_file_again_repairs_the_report_aggregates_of_an_interrupted_import(make_org, tmp_path, monkeypatch):
    """The bulk INSERTs bypass the aggregates' per-event hook; the import rebuilds them at its end. An import
    stopped before that leaves them behind, and running the file again (all rows skipped) repairs them."""
    aggregates = pytest.importorskip("mediation_hub.reporting.aggregates")
    org = make_org()
    path = write_csv(tmp_path / "c.csv", sample_rows())
    period = {"organization_id": org.id, "date_from": date(2025, 1, 1), "date_to": date(2025, 12, 31)}
    with monkeypatch.context() as patch:
        patch.setattr(aggregates, "rebuild_daily_stats", lambda *args, **kwargs: {})  # the process stops here
        imports.import_file(path, org.id, SYSTEM, source_system="old")
        assert rates_report(SYSTEM, **period)["totals"]["received"] == 0  # the aggregates lag behind
    again = imports.import_file(path, org.id, SYSTEM, source_system="old")
    assert (again.imported, again.skipped) == (0, 6)
    totals = rates_report(SYSTEM, **period)["totals"]
    assert (totals["received"], totals["concluded"], totals["declined"]) == (5, 2, 1)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_rerun_changes_nothing(kind, make_org, tmp_path):
    org = make_org()
    path = WRITERS[kind](tmp_path / f"cases.{kind}", sample_rows())
    imports.import_file(path, org.id, SYSTEM, source_system="old")
    before = counts(org.id)
    assert before == (5, 10, 5 * 2 + 3 + 1 + 2)  # registered+imported each, 3 accepted, 1 declined, 2 concluded

    again = imports.import_file(path, org.id, SYSTEM, source_system="old", errors_path=tmp_path / "again.csv")
    # the five imported rows and the repeat of J001 (row 7) now find their case: skipped; the bad rows fail again
    assert (again.total, again.imported, again.skipped, again.failed) == (9, 0, 6, 3)
    assert [r[0] for r in read_report(tmp_path / "again.csv")[1:]] == ["4", "5", "6"]
    assert counts(org.id) == before


def test_the_same_numbers_from_another_source_system_are_other_cases(make_org, tmp_path):
    org = make_org()
    path = write_csv(tmp_path / "c.csv", [row("A1"), row("A2")])
    assert imports.import_file(path, org.id, SYSTEM, source_system="county-a").imported == 2
    assert imports.import_file(path, org.id, SYSTEM, source_system="county-b").imported == 2
    assert counts(org.id)[0] == 4


def test_a_batch_refused_by_the_database_is_retried_row_by_row(make_org, tmp_path, monkeypatch):
    """A concurrent import inserted A1 between the check and the insert: the unique index refuses the batch,
    the rows then go in one by one, A1 counted as skipped and A2 imported."""
    org = make_org()
    imports.import_file(write_csv(tmp_path / "first.csv", [row("A1")]), org.id, SYSTEM, source_system="old")
    real = imports._Importer._already_imported
    calls = []

    def blind_first_check(self, numbers):
        calls.append(set(numbers))
        return {} if len(calls) == 1 else real(self, numbers)

    monkeypatch.setattr(imports._Importer, "_already_imported", blind_first_check)
    summary = imports.import_file(
        write_csv(tmp_path / "second.csv", [row("A1"), row("A2")]), org.id, SYSTEM, source_system="old"
    )
    assert (summary.imported, summary.skipped, summary.failed) == (1, 1, 0)
    assert sorted(by_source(org.id)) == ["A1", "A2"]
    assert counts(org.id) == (2, 4, 4)


def _failures_of(make_org, tmp_path, data: dict) -> list[tuple[str, str]]:
    org = make_org()
    summary = imports.import_file(write_csv(tmp_path / "one.csv", [data]), org.id, SYSTEM, source_system="old")
    assert summary.imported + summary.failed == 1
    if summary.failed:
        assert counts(org.id) == (0, 0, 0)  # nothing of a failed row is written
    return [(f.column, f.reason) for f in summary.failures]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"状态": "办结", "调解结果": "达成协议", "协议内容": "被申请人赔偿维修费"},
            [("办结日期", "办结的案件须填写办结日期")],
        ),
        ({"状态": "办结", "办结日期": "2025-03-10"}, [("调解结果", "办结的案件须填写调解结果")]),
        (
            {"状态": "办结", "办结日期": "2025-03-10", "调解结果": "未达成协议", "协议金额(元)": "100"},
            [("协议金额(元)", "只有达成协议时填写")],
        ),
        ({"状态": "办结", "办结日期": "2025-03-10", "调解结果": "和解"}, [("调解结果", "未知的办结结果")]),
        ({"状态": "受理", "受理日期": "2025-03-01"}, [("受理日期", "日期不能早于上一步骤日期 2025-03-03")]),
        ({"状态": "登记", "办结日期": "2025-03-10"}, [("办结日期", "状态为「登记」时不填写此项")]),
        ({"状态": "不予受理"}, [("不予受理理由", "请填写不予受理的理由")]),
        ({"状态": "已归档"}, [("状态", "未知的状态「已归档」，应为 登记/受理/调解中/办结/不予受理")]),
        ({"登记日期": "2099-01-04"}, [("登记日期", "受理登记日期不能晚于今天")]),
        ({"登记日期": "3月5日"}, [("登记日期", "日期格式错误：3月5日（应为 2024-03-05 或 2024/3/5）")]),
        ({"登记日期": ""}, [("登记日期", "必填项为空")]),
        ({"纠纷类型": "宠物"}, [("纠纷类型", "未知的纠纷类别")]),
        ({"申请人姓名": ""}, [("申请人姓名", "必填项为空")]),
        ({"申请人证件号码": ""}, [("申请人证件号码", "申请人须提供身份证号码")]),
        ({"申请人电话": "12345"}, [("申请人电话", "不是有效的中国大陆电话号码")]),
        ({"申请人类型": "外星人"}, [("申请人类型", "未知的当事人类型「外星人」，应为 个人 或 单位")]),
        ({"重大纠纷": "也许"}, [("重大纠纷", "应填写 是 或 否，而不是「也许」")]),
        ({"涉及金额(元)": "-5"}, [("涉及金额(元)", "金额不能为负数")]),
        # the calendar starts in 2004: a deadline in 2003 cannot be computed
        (
            {"登记日期": "2003-05-06", "状态": "受理"},
            [("受理日期", "2003年的工作日历尚未载入，请管理员载入该年节假日安排")],
        ),
        # several faults of one row are all reported
        (
            {"纠纷类型": "宠物", "申请人证件号码": "110105198005170000", "被申请人地区代码": "999999"},
            [
                ("纠纷类型", "未知的纠纷类别"),
                ("申请人证件号码", "身份证号码校验位错误"),
                ("被申请人地区代码", "未知的行政区划代码 999999"),
            ],
        ),
    ],
)
def test_each_rule_names_the_column_and_the_reason(fields, expected, make_org, tmp_path):
    assert sorted(_failures_of(make_org, tmp_path, row("R1", **fields))) == sorted(expected)


def test_a_case_registered_before_the_calendar_starts_imports_without_a_deadline(make_org, tmp_path):
    assert _failures_of(make_org, tmp_path, row("OLD1", 登记日期="2003-05-06")) == []


def test_an_organisation_party_and_spreadsheet_spellings(make_org, tmp_path):
    org = make_org()
    data = row(
        "S1",
        登记日期="20250303",
        纠纷类型="neighbour",
        案件来源="12348热线",
        重大纠纷="是",
        状态="已办结",
        受理日期="2025.3.4",
        办结日期="2025-03-05 00:00:00",
        调解结果="转诉讼/仲裁",
        申请人类型="单位",
        申请人姓名="某某有限公司",
        申请人证件号码="91110105MA01A2B3C4",
    )
    summary = imports.import_file(write_csv(tmp_path / "s.csv", [data]), org.id, SYSTEM, source_system="old")
    assert summary.failures == [] and summary.imported == 1
    case = by_source(org.id)["S1"]
    assert (case.received_on, case.category_code, case.source_code, case.major) == (
        date(2025, 3, 3),
        "neighbour",
        "hotline_12348",
        True,
    )
    assert (case.outcome, case.concluded_on) == (Outcome.referred, date(2025, 3, 5))
    assert case.parties[0].kind == PartyKind.organization


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(encoding, make_org, tmp_path):
    org = make_org()
    path = write_csv(tmp_path / "e.csv", [row("E1"), row("E2", 纠纷类型="婚姻家庭")], encoding=encoding)
    summary = imports.import_file(path, org.id, SYSTEM, source_system="old")
    assert (summary.imported, summary.failed) == (2, 0)
    assert by_source(org.id)["E2"].category_code == "marriage_family"


def test_wrong_headers_name_the_missing_columns_and_write_nothing(make_org, tmp_path):
    org = make_org()
    header = [h for h in HEADER if h not in ("原系统案号", "纠纷类型")] + ["备注"]
    path = write_csv(tmp_path / "bad.csv", [row("X1")], header=header)
    with pytest.raises(UnusableFile) as caught:
        imports.import_file(path, org.id, SYSTEM, source_system="old")
    assert caught.value.errors == {"file": ["缺少必需的列：原系统案号、纠纷类型（表头与导入格式不符，见导入说明）"]}
    assert counts(org.id) == (0, 0, 0)


def test_extra_columns_are_ignored_and_reported(make_org, tmp_path):
    org = make_org()
    path = write_csv(tmp_path / "x.csv", [{**row("X1"), "备注": "无"}], header=[*HEADER, "备注"])
    summary = imports.import_file(path, org.id, SYSTEM, source_system="old")
    assert (summary.imported, summary.ignored_columns) == (1, ["备注"])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("cases.txt", b"a,b", "只支持 csv 和 xlsx 文件"),
        ("cases.csv", b"", "文件为空"),
        ("cases.xlsx", b"not a zip", "无法打开 xlsx 文件"),
    ],
)
def test_unusable_files(name, content, message, make_org, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnusableFile) as caught:
        imports.import_file(path, make_org().id, SYSTEM)
    assert caught.value.errors == {"file": [message]}


def test_who_may_import_into_which_organisation(make_org, make_user, tmp_path):
    path = write_csv(tmp_path / "p.csv", [row("P1")])
    own, other = make_org(region_code="110105"), make_org(region_code="130602")
    mediator = make_user(role=Role.mediator, organization=own).to_actor()
    assert imports.import_file(path, own.id, mediator, source_system="old").imported == 1
    with pytest.raises(ValidationFailed) as caught:
        imports.import_file(path, other.id, mediator)
    assert caught.value.errors == {"organization_id": ["只能为本组织导入案件"]}

    registrar = make_user(role=Role.registry_admin, region_code="110000").to_actor()
    assert imports.import_file(path, own.id, registrar, source_system="registrar").imported == 1
    with pytest.raises(ValidationFailed) as caught:
        imports.import_file(path, other.id, registrar)
    assert caught.value.errors == {"organization_id": ["该组织不在您的管辖范围内"]}

    with pytest.raises(PermissionDenied):
        imports.import_file(path, own.id, make_user(role=Role.coordinator).to_actor())
    centre = make_org(kind=OrgKind.legal_aid_centre)
    with pytest.raises(ValidationFailed) as caught:
        imports.import_file(path, centre.id, SYSTEM)
    assert caught.value.errors == {"organization_id": ["承办组织须为在册的调解组织"]}


def test_error_report_cells_cannot_run_as_formulas(make_org, tmp_path):
    org = make_org()
    path = write_csv(tmp_path / "f.csv", [row("=1+2", 纠纷类型="宠物")])
    imports.import_file(path, org.id, SYSTEM, source_system="old", errors_path=tmp_path / "f-err.csv")
    assert read_report(tmp_path / "f-err.csv")[1] == ["2", "'=1+2", "纠纷类型", "未知的纠纷类别"]


def test_progress_is_reported_after_each_batch(make_org, tmp_path):
    org = make_org()
    rows = [row(f"B{i}", 申请人证件号码=valid_id_number(sequence=i)) for i in range(7)]
    seen = []
    imports.import_file(
        write_csv(tmp_path / "b.csv", rows), org.id, SYSTEM, source_system="old", batch_size=3, on_progress=seen.append
    )
    assert [(p.processed_rows, p.imported) for p in seen] == [(3, 3), (6, 6), (7, 7)]
    fractions = [p.fraction for p in seen]  # the share of the file read (a small csv is read in one go)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_worker_processes_give_the_same_result(kind, make_org, tmp_path):
    """Rows checked in two forked workers: the same failures and the same cases as in one process."""
    one, two = make_org(), make_org()
    rows = sample_rows() + [row(f"W{i}", 申请人证件号码=valid_id_number(sequence=i)) for i in range(30)]
    path = WRITERS[kind](tmp_path / f"cases.{kind}", rows)
    single = imports.import_file(path, one.id, SYSTEM, source_system="old", batch_size=16)
    parallel = imports.import_file(path, two.id, SYSTEM, source_system="old", batch_size=16, workers=2)
    assert (parallel.total, parallel.imported, parallel.skipped, parallel.failed) == (39, 35, 0, 4)
    assert parallel.failures == single.failures

    def content(org_id):
        return {
            number: (
                c.status,
                c.received_on,
                c.due_on,
                c.number.rsplit("-", 1)[1],
                [(p.name, p.id_number_masked, p.phone_masked) for p in c.parties],
                [(e.code, e.on_date) for e in c.events],
            )
            for number, c in by_source(org_id).items()
        }

    assert content(two.id) == content(one.id)


@pytest.mark.parametrize("workers", [1, 2])
def test_duplicates_across_batches_are_found_while_the_next_batch_is_checked(workers, make_org, tmp_path):
    """A batch is checked while the one before it is stored: a source number repeated in the next batch (not in
    the database yet when that batch began) and one repeated two batches later (stored by then) both fail as
    duplicates of their first row; a repeat of a row that failed its own checks goes in. Batches of two rows."""
    org = make_org()
    rows = [row(f"N{i}", 申请人证件号码=valid_id_number(sequence=i)) for i in range(8)]
    rows[1] = row("N1", 申请人证件号码="110105199001011230")  # row 3, batch 1: refused (check digit)
    rows[2] = row("N0", 申请人证件号码=valid_id_number(sequence=2))  # row 4, batch 2: repeats row 2 (batch 1)
    rows[5] = row("N1", 申请人证件号码=valid_id_number(sequence=5))  # row 7, batch 3: the refused N1 again
    rows[6] = row("N4", 申请人证件号码=valid_id_number(sequence=6))  # row 8, batch 4: repeats row 6 (batch 3)
    rows[7] = row("N0", 申请人证件号码=valid_id_number(sequence=7))  # row 9, batch 4: repeats row 2 (batch 1)
    summary = imports.import_file(
        write_csv(tmp_path / "d.csv", rows), org.id, SYSTEM, source_system="old", batch_size=2, workers=workers
    )
    assert [(f.row, f.source_number, f.column) for f in summary.failures] == [
        (3, "N1", "申请人证件号码"),
        (4, "N0", "原系统案号"),
        (9, "N0", "原系统案号"),
        (8, "N4", "原系统案号"),
    ]
    assert [f.reason for f in summary.failures][1:] == [
        "与第 2 行的原系统案号重复",
        "与第 2 行的原系统案号重复",
        "与第 6 行的原系统案号重复",
    ]
    assert (summary.total, summary.imported, summary.failed) == (8, 4, 4)
    assert sorted(by_source(org.id)) == ["N0", "N1", "N3", "N4"]
