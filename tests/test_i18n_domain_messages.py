"""The domain packages' messages (cases, transfers, legal aid, agreements, imports, reporting) are Chinese only,
with a stable machine code beside each: in the JSON error bodies (``error``, ``error_codes``), on the service
errors (``code_of``), and in the import's stored row errors."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest

from mediation_hub.agreements import service as agreements
from mediation_hub.cases.rules import to_amount
from mediation_hub.core.actor import Role
from mediation_hub.core.messages import code_of
from mediation_hub.errors import ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.imports import layout
from mediation_hub.imports.models import ImportJob
from mediation_hub.reporting.service import _check_period
from tests.factories_cases import organization_party, person
from tests.import_samples import row, write_csv

# A Latin word in a message people read; codes such as whsec_, csv or xlsx do not occur in these messages.
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _registration(org, **fields) -> dict:
    body = {
        "organization_id": org.id,
        "category": "neighbour",
        "source": "party_application",
        "summary": "楼上漏水致楼下受损",
        "received_on": "2026-03-02",
        "occurred_region_code": "110105",
        "parties": [person("applicant", name="王芳"), organization_party("respondent", name="某物业公司")],
    }
    body.update(fields)
    return body


def _messages(tree) -> list[str]:
    if isinstance(tree, dict):
        return [m for value in tree.values() for m in _messages(value)]
    if isinstance(tree, list):
        return [m for value in tree for m in _messages(value)]
    return [tree]


def test_a_refused_registration_names_each_field_with_a_code_in_chinese(api_as, make_org):
    org = make_org()
    api = api_as(role=Role.mediator, organization=org)
    response = api.post(
        "/api/v1/cases",
        json=_registration(
            org,
            category="nope",
            received_on="2999-01-01",
            occurred_region_code="999999",
            parties=[person("third_party", name="李四")],
        ),
    )
    assert response.status_code == 422
    codes = response.json["error_codes"]["json"]
    assert codes["category"] == ["unknown_category"]
    assert "date_in_future" in codes["received_on"]
    assert codes["occurred_region_code"] == ["unknown_region"]
    assert codes["parties"] == ["applicant_and_respondent_required"]
    messages = _messages(response.json["errors"])
    assert "未知的行政区划代码 999999" in messages
    assert not [m for m in messages if LATIN_WORD.search(m)], messages


def test_a_refused_transition_is_a_coded_chinese_409(api_as, make_org):
    org = make_org()
    api = api_as(role=Role.mediator, organization=org)
    case_id = api.post("/api/v1/cases", json=_registration(org)).json["id"]
    response = api.post(f"/api/v1/cases/{case_id}/conclude", json={"outcome": "agreement", "terms": "赔偿 3500 元"})
    assert response.status_code == 409
    assert response.json["error"] == "action_not_allowed"
    assert response.json["message"] == "案件状态为「已登记」，不能办结"


def _refusal(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        call()
    return {field: [code_of(m) for m in messages] for field, messages in caught.value.errors.items()}


def test_agreement_terms_are_refused_with_a_code_each(app):
    codes = _refusal(
        lambda: agreements.check_terms(
            {
                "code": "bad code",
                "member_codes": ["110000"],
                "response_working_days": 99,
                "signed_on": date(2025, 3, 1),
                "effective_from": date(2025, 2, 1),
            },
            None,
        )
    )
    assert codes == {
        "code": ["invalid_agreement_code"],
        "member_codes": ["too_few_members"],
        "response_working_days": ["response_days_out_of_range"],
        "effective_from": ["effective_before_signed"],
    }


def test_a_report_period_backwards_is_refused_with_codes(app):
    codes = _refusal(lambda: _check_period(date(2026, 3, 1), date(2026, 2, 1), date(2026, 2, 1)))
    assert codes == {"to": ["period_reversed"], "as_of": ["as_of_before_from"]}


@pytest.mark.parametrize(
    ("parse", "value", "code", "text"),
    [
        (layout.parse_date, "2025-02-30", "no_such_date", "日期不存在：2025-02-30"),
        (layout.parse_date, "3月5日", "invalid_date", "日期格式错误：3月5日（应为 2024-03-05 或 2024/3/5）"),
        (layout.parse_yes_no, "也许", "yes_or_no", "应填写 是 或 否，而不是「也许」"),
        (layout.parse_status, "已归档", "unknown_status", "未知的状态「已归档」，应为 登记/受理/调解中/办结/不予受理"),
        (layout.parse_party_kind, "外星人", "unknown_party_kind", "未知的当事人类型「外星人」，应为 个人 或 单位"),
    ],
)
def test_a_spreadsheet_cell_that_does_not_read_keeps_its_code(app, parse, value, code, text):
    # the ValueError carries the coded message: a collector reading exc.args[0] keeps the code
    with pytest.raises(ValueError, match=re.escape(text)) as caught:
        parse(value)
    assert (code_of(caught.value.args[0]), caught.value.args[0]) == (code, text)


@pytest.mark.parametrize(
    ("value", "code"), [("abc", "invalid_amount"), ("-5", "negative_amount"), ("1.005", "too_many_decimals")]
)
def test_an_amount_that_is_refused_says_why_with_a_code(app, value, code):
    errors: dict[str, list[str]] = {}
    assert to_amount(value, "amount_yuan", errors) is None
    assert [code_of(m) for m in errors["amount_yuan"]] == [code]
    assert not LATIN_WORD.search(errors["amount_yuan"][0])


def test_import_row_errors_are_stored_in_chinese_whoever_uploads(app, api_as, make_org, tmp_path, monkeypatch):
    # stored and read later by anyone: written in the default language, also for an upload asking for English
    monkeypatch.setitem(app.config, "IMPORT_RUN_INLINE", True)
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    org = make_org()
    api = api_as(role=Role.mediator, organization=org)
    path = tmp_path / "rows.csv"
    write_csv(path, [row("R1", 登记日期="2025-02-30"), row("R2", 状态="已归档"), row("R3", 纠纷类型="宠物")])
    response = api.post(
        "/api/v1/imports/cases",
        data={"organization_id": str(org.id), "file": (io.BytesIO(path.read_bytes()), "rows.csv")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code in (201, 202), response.get_data(as_text=True)
    assert db.session.get(ImportJob, response.json["id"]).failed == 3
    report = api.get(f"/api/v1/imports/{response.json['id']}/errors").get_data(as_text=True)
    assert "日期不存在：2025-02-30" in report and "未知的状态「已归档」" in report and "未知的纠纷类别" in report
    assert not LATIN_WORD.search(report), report
