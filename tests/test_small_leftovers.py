"""The small leftovers of issue 13: the page header names the person (point 8), never the login name; one summary
limit with its counter on the case page and the API (point 5); the dashboard's filter takes the dates every form
takes (point 7); "仍然登记" goes through only for the possible duplicates the person saw (point 5)."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from mediation_hub.cases import service
from mediation_hub.cases.models import Case, CaseStatus
from mediation_hub.cases.rules import SUMMARY_MAX_LENGTH
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.extensions import db
from tests.factories import valid_id_number
from tests.factories_cases import case_data, person


def header_who(page: str) -> str:
    found = re.search(r'<span class="who">(.*?)</span>', page, re.S)
    assert found, "the header shows who is signed in"
    return found.group(1).strip()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("display_name", "王五（保定市页眉测试调解委员会） · 调解员"),
        ("mediator", "赵六（保定市页眉测试调解委员会） · 调解员"),
        ("nobody", "调解员（保定市页眉测试调解委员会）"),  # the role once, not 调解员 · 调解员
        ("coordinator", "协调官员（河北省）"),
        ("admin", "系统管理员"),
    ],
)
def test_the_header_shows_the_person_never_the_login(signed_in, make_org, make_user, make_mediator, kind, expected):
    org = make_org(name="保定市页眉测试调解委员会", region_code="130602")
    mediator = make_mediator(organization=org, name="赵六")
    kwargs = {
        "display_name": {"organization": org, "display_name": "王五"},
        "mediator": {"organization": org, "mediator_id": mediator.id},
        "nobody": {"organization": org},
        "coordinator": {"role": Role.coordinator, "region_code": "130000"},
        "admin": {"role": Role.admin},
    }[kind]
    user = make_user(username=f"header_login_{kind}", **kwargs)
    db.session.commit()
    page = signed_in(user).get("/account/password").get_data(as_text=True)
    assert header_who(page) == expected
    assert "header_login_" not in page


# --- one summary limit (SUMMARY_MAX_LENGTH, 5000) on the case page and the API ----------------------------------

# (action, page slug, API path, field, the case's state, the other fields the action needs)
LIMITED_TEXTS = pytest.mark.parametrize(
    ("action", "slug", "field", "status", "others"),
    [
        ("record_session", "sessions", "summary", CaseStatus.in_mediation, {}),
        ("conclude", "conclude", "terms", CaseStatus.in_mediation, {"outcome": "agreement"}),
        ("record_follow_up", "follow-ups", "summary", CaseStatus.concluded, {}),
    ],
    ids=["session", "terms", "follow_up"],
)
TOO_LONG = "调" * (SUMMARY_MAX_LENGTH + 1)


def test_the_limit_is_five_thousand():
    assert SUMMARY_MAX_LENGTH == 5000


@pytest.fixture
def mediator_client(signed_in, make_user, make_org, make_mediator):
    org = make_org(name="竞秀区字数测试调解委员会")
    make_mediator(organization=org, name="李调解")
    user = make_user(role=Role.mediator, organization=org)
    client = signed_in(user)
    client.org, client.user = org, user
    return client


def page_form(action: str, case, field: str, text: str, others: dict) -> dict:
    dated = {"record_session": "held_on", "conclude": "concluded_on", "record_follow_up": "visited_on"}[action]
    data = {field: text, dated: case.last_step_on.isoformat(), "version": str(case.version), **others}
    return {f"{action}-{name}": value for name, value in data.items()}


@LIMITED_TEXTS
@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("调" * SUMMARY_MAX_LENGTH, True),
        ("调" * (SUMMARY_MAX_LENGTH - 2) + "\r\n", True),  # a line break the browser sends as CRLF counts once
        (TOO_LONG, False),
    ],
    ids=["5000", "5000-with-crlf", "5001"],
)
def test_the_case_page_takes_five_thousand_characters(
    mediator_client, make_case, action, slug, field, status, others, text, accepted
):
    case = make_case(mediator_client.org, status)
    db.session.commit()  # a refused form rolls the session back
    response = mediator_client.post(f"/cases/{case.id}/{slug}", data=page_form(action, case, field, text, others))
    if accepted:
        assert response.status_code == 302, response.get_data(as_text=True)
        return
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    beside = re.search(rf'<div class="field has-error" data-field="{field}">(.*?)</div>', html, re.S)
    assert beside, "the message stands beside the field"
    assert f"最多 {SUMMARY_MAX_LENGTH} 字，现有 {SUMMARY_MAX_LENGTH + 1} 字" in beside.group(1)


@LIMITED_TEXTS
def test_the_case_page_counts_characters_against_the_one_limit(
    mediator_client, make_case, action, slug, field, status, others
):
    case = make_case(mediator_client.org, status)
    html = mediator_client.get(f"/cases/{case.id}").get_data(as_text=True)
    area = re.search(rf'<textarea[^>]*id="{action}-{field}"[^>]*>', html)
    assert area, f"the {action} form has its {field} field"
    assert f'data-max-length="{SUMMARY_MAX_LENGTH}"' in area.group(0)
    assert 'data-counter="已输入 {count} / {max} 字"' in area.group(0)
    assert "4000" not in area.group(0)
    assert "js/char-counter.js" in html


@LIMITED_TEXTS
@pytest.mark.parametrize(
    ("text", "accepted"), [("调" * SUMMARY_MAX_LENGTH, True), (TOO_LONG, False)], ids=["5000", "5001"]
)
def test_the_api_takes_five_thousand_characters(api_as, make_case, action, slug, field, status, others, text, accepted):
    case = make_case(status=status)
    api = api_as(role=Role.admin)
    response = api.post(f"/api/v1/cases/{case.id}/{slug}", json={field: text, **others})
    if accepted:
        assert response.status_code in (200, 201), response.json
        return
    assert response.status_code == 422
    assert list(response.json["errors"]["json"]) == [field]
    assert list(response.json["error_codes"]["json"]) == [field]


# --- the dashboard's filter takes the dates every form takes -----------------------------------------------------


def _kpi(html: str, name: str) -> tuple[str, str, str]:
    block = re.search(
        rf'id="kpi-{name}".*?class="value"[^>]*>([^<]*)<.*?class="numerator">(\d+)<.*?'
        r'class="denominator">(\d+)<',
        html,
        re.S,
    )
    return block.group(1), block.group(2), block.group(3)


def _shown(html: str, name: str) -> str:
    return re.search(rf'<input type="text"[^>]*name="{name}" value="([^"]*)"', html).group(1)


@pytest.mark.parametrize(
    ("date_from", "date_to", "as_of"),
    [
        ("2026-03-01", "2026-03-31", "2026-03-31"),
        ("20260301", "20260331", "20260331"),  # a phone's numeric keyboard without "-"
        ("2026/3/1", "2026/3/31", "2026/03/31"),
        ("2026年3月1日", "2026年3月31日", "2026年3月31日"),
        ("2026.3.1", "２０２６-０３-３１", " 2026-3-31 "),  # dots, full-width digits, spaces around
    ],
    ids=["iso", "compact", "slashes", "chinese", "mixed"],
)
def test_the_dashboard_takes_the_dates_the_forms_take(reporting_cases, make_user, signed_in, date_from, date_to, as_of):
    coordinator = make_user(role=Role.coordinator, region_code="130000")
    client = signed_in(coordinator)
    page = client.get(
        "/reporting", query_string={"region_code": "130000", "from": date_from, "to": date_to, "as_of": as_of}
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # success 4/6 = 66.7 % in Hebei in March 2026 (see test_reporting_pages), whatever way the dates were typed
    assert _kpi(html, "success_rate") == ("66.7%", "4", "6")
    # and the form shows them back in ISO
    assert [_shown(html, name) for name in ("from", "to", "as_of")] == ["2026-03-01", "2026-03-31", "2026-03-31"]
    xlsx = client.get(
        "/reporting/download.xlsx",
        query_string={"region_code": "130000", "from": date_from, "to": date_to, "as_of": as_of},
    )
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")


@pytest.mark.parametrize("typed", ["2026-02-30", "3月1日", "20263001", "明天"])
def test_a_date_the_dashboard_cannot_read_is_said_beside_the_field(make_user, signed_in, typed):
    coordinator = make_user(role=Role.coordinator, region_code="130000")
    page = signed_in(coordinator).get("/reporting", query_string={"from": typed, "to": "2026-03-31"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "请按 年-月-日 填写日期，如 2026-12-07" in html
    assert _shown(html, "from") == typed  # what was typed stays, to be corrected


# --- "仍然登记" goes through only for the candidates the person saw ----------------------------------------------


def registration_form(applicant_id: str, **fields) -> dict:
    return {
        "category": "neighbour",
        "source": "party_application",
        "summary": "楼上漏水，协商未果",
        "received_on": today_shanghai().isoformat(),
        "occurred_region_code": "110105",
        "amount_yuan": "",
        "parties-0-role": "applicant",
        "parties-0-kind": "person",
        "parties-0-name": "张三",
        "parties-0-number": applicant_id,
        "parties-0-region_code": "110105",
        "parties-1-role": "respondent",
        "parties-1-kind": "person",
        "parties-1-name": "李四",
        "parties-1-number": "",
        "parties-1-region_code": "110108",
        **fields,
    }


def register_meanwhile(org, applicant_id: str) -> int:
    """Somebody else registers a case with the same applicant while the warning is on the screen."""
    case, _ = service.register_case(
        SYSTEM,
        case_data(
            org.id,
            received_on=today_shanghai(),
            parties=[person("applicant", id_number=applicant_id), person("respondent")],
        ),
    )
    db.session.commit()
    return case.id


def cases_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Case))


def shown_candidates(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-case-id="(\d+)">', html)]


def seen_digest(html: str) -> str:
    return re.search(r'name="duplicates_seen" value="(\w+)"', html).group(1)


@pytest.fixture
def duplicate_scene(mediator_client):
    """A case of 张三 registered; the same registration again shows the warning with that one candidate."""
    applicant_id = valid_id_number()
    first = mediator_client.post("/cases/new", data=registration_form(applicant_id))
    first_id = int(first.headers["Location"].rsplit("/", 1)[1])
    warned = mediator_client.post("/cases/new", data=registration_form(applicant_id))
    assert warned.status_code == 409 and shown_candidates(warned.get_data(as_text=True)) == [first_id]
    return {"applicant_id": applicant_id, "first_id": first_id, "seen": seen_digest(warned.get_data(as_text=True))}


def test_registering_anyway_saves_when_the_candidates_are_the_ones_shown(mediator_client, duplicate_scene):
    before = cases_count()
    confirmed = mediator_client.post(
        "/cases/new",
        data=registration_form(
            duplicate_scene["applicant_id"], confirm_duplicate="y", duplicates_seen=duplicate_scene["seen"]
        ),
    )
    assert confirmed.status_code == 302
    assert cases_count() == before + 1


@pytest.mark.parametrize("where", ["own", "elsewhere"])
def test_a_candidate_that_appeared_meanwhile_shows_the_warning_again(mediator_client, make_org, duplicate_scene, where):
    """The person saw one candidate; meanwhile a second case of 张三 was registered (in their organisation, shown
    in the table, or in another, shown as a count): "仍然登记" saves nothing and shows the warning again, and a
    second "仍然登记" for what is now shown saves."""
    applicant_id = duplicate_scene["applicant_id"]
    other = mediator_client.org if where == "own" else make_org(name="字数测试外组织调解委员会")
    second_id = register_meanwhile(other, applicant_id)
    before = cases_count()
    again = mediator_client.post(
        "/cases/new",
        data=registration_form(applicant_id, confirm_duplicate="y", duplicates_seen=duplicate_scene["seen"]),
    )
    assert again.status_code == 409
    assert cases_count() == before
    html = again.get_data(as_text=True)
    assert "您核实后可能重复的案件有了变化，尚未保存，请重新核实下列案件。" in html
    if where == "own":
        assert shown_candidates(html) == [second_id, duplicate_scene["first_id"]]  # newest first
    else:
        assert shown_candidates(html) == [duplicate_scene["first_id"]]
        assert "其他组织有 1 件涉及同一当事人的未结案件" in html
    assert seen_digest(html) != duplicate_scene["seen"]

    confirmed = mediator_client.post(
        "/cases/new", data=registration_form(applicant_id, confirm_duplicate="y", duplicates_seen=seen_digest(html))
    )
    assert confirmed.status_code == 302
    assert cases_count() == before + 1


@pytest.mark.parametrize("seen", [None, "", "0" * 64, "not-a-digest"], ids=["absent", "empty", "forged", "garbage"])
def test_registering_anyway_without_what_was_shown_shows_the_warning(mediator_client, duplicate_scene, seen):
    before = cases_count()
    fields = {"confirm_duplicate": "y"} | ({} if seen is None else {"duplicates_seen": seen})
    response = mediator_client.post("/cases/new", data=registration_form(duplicate_scene["applicant_id"], **fields))
    assert response.status_code == 409
    assert cases_count() == before
    assert shown_candidates(response.get_data(as_text=True)) == [duplicate_scene["first_id"]]


def test_the_first_warning_says_nothing_changed(mediator_client, duplicate_scene):
    warned = mediator_client.post("/cases/new", data=registration_form(duplicate_scene["applicant_id"]))
    assert "有了变化" not in warned.get_data(as_text=True)


def test_the_digest_does_not_tell_the_candidate_ids(mediator_client, duplicate_scene):
    """Keyed with the app's secret: the plain sha256 of the ids is not what the page carries."""
    plain = hashlib.sha256(f"duplicates:{duplicate_scene['first_id']}".encode()).hexdigest()
    assert duplicate_scene["seen"] != plain and len(duplicate_scene["seen"]) == 64


def test_the_api_keeps_confirm_duplicate(api_as, mediator_client, duplicate_scene):
    """The API is unchanged: ``confirm_duplicate: true`` registers (its client saw the 409's candidates)."""
    api = api_as(mediator_client.user)
    body = {
        "category": "neighbour",
        "source": "party_application",
        "summary": "楼上漏水",
        "received_on": today_shanghai().isoformat(),
        "occurred_region_code": "110105",
        "parties": [person("applicant", id_number=duplicate_scene["applicant_id"]), person("respondent")],
    }
    assert api.post("/api/v1/cases", json=body).status_code == 409
    confirmed = api.post("/api/v1/cases", json={**body, "confirm_duplicate": True})
    assert confirmed.status_code == 201, confirmed.json
    assert [w["case_id"] for w in confirmed.json["warnings"]] == [duplicate_scene["first_id"]]
