"""The calendar API (GET /api/v1/calendar/years, PUT …/YEAR) and the command line (calendar status / load)."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from mediation_hub.audit.models import AuditEntry
from mediation_hub.cases.models import CaseStatus
from mediation_hub.core.actor import Role
from mediation_hub.core.calendar import CalendarYear, YearStatus
from mediation_hub.extensions import db
from tests.test_calendar_provisional import frozen, official_2027


@pytest.fixture
def case_due_6_january(make_case, make_org):
    """Accepted 2026-12-07: due 2027-01-06 on the provisional 2027 (worked out in test_calendar_provisional)."""
    with frozen(date(2026, 12, 7)):
        case = make_case(make_org(), CaseStatus.accepted, received_on=date(2026, 12, 7))
    db.session.commit()
    return case


def test_every_user_reads_the_years_with_their_status(api_as):
    body = api_as(role=Role.mediator).get("/api/v1/calendar/years").get_json()
    years = {item["year"]: item for item in body["items"]}
    assert years[2026]["status"] == "official" and years[2026]["source"] == "chinesecalendar"
    assert years[2026]["source_version"] and years[2026]["loaded_by"] is None
    assert years[2027]["status"] == "provisional" and years[2027]["source_version"].startswith("holidays ")
    assert min(years) == 2004


def test_an_administrator_makes_a_year_official_and_open_deadlines_move(api_as, case_due_6_january):
    client = api_as(role=Role.admin)
    holidays = [d.isoformat() for d in official_2027(date(2027, 1, 6))]
    answer = client.put(
        "/api/v1/calendar/years/2027",
        json={"holidays": holidays, "workdays": ["2027-02-20"], "source": "国务院办公厅关于2027年部分节假日安排的通知"},
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["year"], body["status"], body["loaded_by"]) == (2027, "official", client.user.username)
    # 2027-01-06 (Wednesday) became a rest day, Saturday 2027-02-20 a make-up workday
    assert body["days_changed"] == ["2027-01-06", "2027-02-20"]
    assert body["deadlines_moved"] == [
        {
            "subject": "case",
            "subject_id": case_due_6_january.id,
            "number": case_due_6_january.number,
            "field": "due_on",
            "previous": "2027-01-06",
            "deadline": "2027-01-07",
            "provisional": False,
        }
    ]
    case = client.get(f"/api/v1/cases/{case_due_6_january.id}").get_json()
    assert (case["due_on"], case["due_on_provisional"]) == ("2027-01-07", False)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "calendar_loaded"))
    assert entry.target_id == "2027" and entry.detail["deadlines_moved"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"holidays": ["2028-01-01"]}, "holidays"),  # outside the year
        ({"holidays": ["2027-02-06"], "workdays": ["2027-02-06"]}, "workdays"),  # both
        ({"holidays": "2027-01-01"}, "holidays"),  # not a list
        ({"holidays": ["2027-13-01"]}, "holidays"),  # not an ISO date
        ({"workdays": [20270101]}, "workdays"),
    ],
)
def test_a_wrong_body_is_a_422_naming_the_field_and_changes_nothing(api_as, body, field):
    answer = api_as(role=Role.admin).put("/api/v1/calendar/years/2027", json=body)
    assert answer.status_code == 422
    assert field in answer.get_json()["errors"]["json"]
    assert db.session.get(CalendarYear, 2027).status == YearStatus.provisional


def test_a_year_out_of_range_is_a_422(api_as):
    answer = api_as(role=Role.admin).put("/api/v1/calendar/years/1999", json={"holidays": []})
    assert answer.status_code == 422 and "year" in answer.get_json()["errors"]["json"]


@pytest.mark.parametrize("role", [Role.mediator, Role.coordinator, Role.registry_admin, Role.legal_aid_officer])
def test_only_administrators_load_a_year(api_as, role):
    answer = api_as(role=role).put("/api/v1/calendar/years/2027", json={"holidays": ["2027-01-01"]})
    assert answer.status_code == 403
    assert db.session.get(CalendarYear, 2027).status == YearStatus.provisional


# --- command line ---------------------------------------------------------------------------------------


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["calendar", *map(str, args)])


def test_calendar_status_lists_the_years_and_what_to_load(app):
    with frozen(date(2026, 12, 6)):
        result = cli(app, "status")
    assert result.exit_code == 0, result.output
    assert "2026  official     chinesecalendar" in result.output
    assert "2027  provisional" in result.output
    assert (
        "2027 is provisional: load the State Council's notice with 'mediation-hub calendar load 2027 FILE'"
        in result.output
    )


@pytest.mark.parametrize("form", ["csv", "json"])
def test_calendar_load_reads_a_notice_file_and_moves_deadlines(app, tmp_path, case_due_6_january, form):
    if form == "csv":
        path = tmp_path / "2027.csv"
        rows = ["日期,类型", "2027-01-01,休", "2027-01-06,holiday", "2027-02-05..2027-02-11,休", "2027-02-20,班"]
        path.write_text("\n".join(rows), encoding="utf-8")
    else:
        path = tmp_path / "2027.json"
        path.write_text(
            json.dumps(
                {
                    "holidays": ["2027-01-01", "2027-01-06", "2027-02-05..2027-02-11"],
                    "workdays": ["2027-02-20"],
                    "source": "国务院办公厅通知",
                }
            ),
            encoding="utf-8",
        )
    result = cli(app, "load", 2027, path)
    assert result.exit_code == 0, result.output
    assert "2027 loaded: 9 holidays, 1 make-up workdays" in result.output
    assert f"{case_due_6_january.number} 的办理期限因 2027 年节假日安排调整为 2027-01-07" in result.output
    record = db.session.get(CalendarYear, 2027)
    assert (record.status, record.loaded_by) == (YearStatus.official, "cli")


def test_calendar_load_refuses_a_bad_file_and_changes_nothing(app, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("2027-01-01,休\n2026-12-31,休\nsoon,休\n", encoding="utf-8")
    result = cli(app, "load", 2027, path)
    assert result.exit_code == 2
    assert "不是有效日期：soon" in result.output
    assert db.session.get(CalendarYear, 2027).status == YearStatus.provisional
