"""One person's request (PIPL): an administrator exports everything held about a person found by ID number (an
audited reveal), then erases it; through the service, the API and the pages."""

from __future__ import annotations

import io
import json
import re
import time
from datetime import date

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from openpyxl import load_workbook

from mediation_hub.audit.models import AuditEntry
from mediation_hub.cases.models import Case, CaseStatus, Party
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.extensions import db
from mediation_hub.legal_aid.models import ApplicationStatus, LegalAidApplication
from mediation_hub.privacy import service
from mediation_hub.privacy.views import SEAL_SECONDS, seal
from mediation_hub.registry.models import Mediator
from tests.factories import valid_id_number
from tests.factories_cases import organization_party, person

NUMBER = valid_id_number("130602", date(1990, 4, 2), sequence=321)  # the person asking
PHONE = "13711112222"
OTHER = valid_id_number(sequence=654)
MASKED = NUMBER[:6] + "********" + NUMBER[-4:]


@pytest.fixture
def held(make_org, make_case, make_application, make_mediator):
    """The person appears as the applicant of two cases (one concluded), as the applicant of a refused legal-aid
    application and as a former (inactive) mediator; another person and a company share the first case."""
    org = make_org(region_code="110105")
    first = make_case(
        org,
        CaseStatus.concluded,
        parties=[
            person("applicant", "张秀兰", id_number=NUMBER, phone=PHONE),
            person("respondent", "周强", id_number=OTHER),
            organization_party("third_party", "某物业公司"),
        ],
    )
    second = make_case(org, parties=[person("applicant", "张秀兰", id_number=NUMBER), person("respondent")])
    application, *_ = make_application(
        ApplicationStatus.refused,
        applicant={"name": "张秀兰", "id_number": NUMBER, "phone": PHONE, "region_code": "130602"},
    )
    mediator = make_mediator(organization=org, name="张秀兰", id_number=NUMBER, phone=PHONE)
    mediator.active = False
    db.session.commit()
    return {"first": first, "second": second, "application": application, "mediator": mediator}


def _audit(action):
    return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all()


# --- service -------------------------------------------------------------------------------------------------


def test_the_person_is_found_everywhere_by_the_keyed_hash(held):
    records = service.locate_person(SYSTEM, " " + NUMBER.lower() + " ")  # as typed: spaces, a small x
    assert [p.case_id for p in records.parties] == [held["first"].id, held["second"].id]
    assert [m.id for m in records.mediators] == [held["mediator"].id]
    assert [a.id for a in records.applications] == [held["application"].id]
    assert records.counts() == {"parties": 2, "cases": 2, "mediators": 1, "legal_aid_applications": 1}
    assert re.fullmatch(r"[0-9a-f]{16}", records.reference)
    assert service.locate_person(SYSTEM, valid_id_number(sequence=999)).empty


def test_the_export_holds_the_full_data_and_is_audited_without_it(held):
    document = service.export_person(SYSTEM, NUMBER, remote_addr="10.0.0.9")
    assert document["id_number"] == NUMBER
    first = document["parties"][0]
    assert (first["case_number"], first["name"], first["id_number"], first["phone"], first["role"]) == (
        held["first"].number,
        "张秀兰",
        NUMBER,
        PHONE,
        "applicant",
    )
    assert first["case_status"] == "concluded" and first["case_category"] == "邻里"
    assert document["parties"][1]["phone"] != PHONE  # the second case recorded another phone
    assert document["mediators"][0] == {
        "mediator_id": held["mediator"].id,
        "name": "张秀兰",
        "organization": held["mediator"].organization.name,
        "id_number": NUMBER,
        "phone": PHONE,
        "specialties": [],
        "active": False,
    }
    assert document["legal_aid_applications"][0]["id_number"] == NUMBER
    assert document["legal_aid_applications"][0]["status"] == "refused"
    assert "周强" not in json.dumps(document, ensure_ascii=False) and OTHER not in json.dumps(document)
    [entry] = _audit("personal_data_exported")
    assert entry.target_type == "person" and entry.remote_addr == "10.0.0.9"
    assert entry.detail == {"parties": 2, "cases": 2, "mediators": 1, "legal_aid_applications": 1}
    assert NUMBER not in str(entry.detail) + str(entry.target_id) and "张秀兰" not in str(entry.detail)


def test_erasure_clears_the_person_everywhere_and_keeps_everything_else(held):
    export_reference = service.locate_person(SYSTEM, NUMBER).reference
    counts = service.erase_person(SYSTEM, NUMBER)
    assert counts == {"parties": 2, "cases": 2, "mediators": 1, "legal_aid_applications": 1}
    for case in (held["first"], held["second"]):
        applicant = db.session.scalars(sa.select(Party).where(Party.case_id == case.id, Party.position == 0)).one()
        assert applicant.name == service.PLACEHOLDER and applicant.erased_at is not None
        assert applicant.id_number_hash is None and applicant.phone_enc is None and applicant.id_number_masked is None
    others = db.session.scalars(sa.select(Party).where(Party.case_id == held["first"].id, Party.position > 0)).all()
    assert [p.name for p in others] == ["周强", "某物业公司"] and all(p.erased_at is None for p in others)
    assert db.session.get(Case, held["first"].id).status == CaseStatus.concluded
    application = db.session.get(LegalAidApplication, held["application"].id)
    assert application.applicant_name == service.PLACEHOLDER and application.id_number_enc is None
    assert application.status == ApplicationStatus.refused
    mediator = db.session.get(Mediator, held["mediator"].id)
    assert (mediator.name, mediator.id_number_masked, mediator.phone_masked) == (service.PLACEHOLDER, None, None)
    [entry] = _audit("personal_data_erased")
    assert entry.target_id == export_reference and entry.detail == {"reason": "request", **counts}
    assert service.locate_person(SYSTEM, NUMBER).empty  # nothing left to find, so a second request is a 404


def test_an_active_mediator_is_not_erased_until_deactivated(held):
    held["mediator"].active = True
    db.session.flush()
    with pytest.raises(service.StateConflict, match="仍是在用的调解员") as refused:
        service.erase_person(SYSTEM, NUMBER)
    assert refused.value.error_code == "active_mediator"
    assert not service.locate_person(SYSTEM, NUMBER).empty  # all or nothing: the parties are kept too
    assert _audit("personal_data_erased") == []


# --- API ------------------------------------------------------------------------------------------------------


def test_api_export_is_an_audited_reveal(api_as, held):
    answer = api_as(role=Role.admin).post("/api/v1/privacy/person-export", json={"id_number": NUMBER})
    assert answer.status_code == 200, answer.json
    assert answer.headers["X-Personal-Data"] == "revealed" and answer.headers["Cache-Control"] == "no-store"
    assert answer.json["parties"][0]["id_number"] == NUMBER and answer.json["mediators"][0]["phone"] == PHONE
    assert len(_audit("personal_data_exported")) == 1


def test_api_erase_then_nothing_is_left(api_as, held):
    api = api_as(role=Role.admin)
    erased = api.post("/api/v1/privacy/person-erase", json={"id_number": NUMBER})
    assert erased.status_code == 200 and erased.json == {
        "parties": 2,
        "cases": 2,
        "mediators": 1,
        "legal_aid_applications": 1,
    }
    assert "X-Personal-Data" not in erased.headers
    for call in ("person-export", "person-erase"):
        again = api.post(f"/api/v1/privacy/{call}", json={"id_number": NUMBER})
        assert again.status_code == 404, again.json


def test_api_erase_of_an_active_mediator_is_a_409(api_as, held):
    held["mediator"].active = True
    db.session.commit()
    answer = api_as(role=Role.admin).post("/api/v1/privacy/person-erase", json={"id_number": NUMBER})
    assert answer.status_code == 409 and answer.json["error"] == "active_mediator"
    assert "请先在登记中停用" in answer.json["message"]


@pytest.mark.parametrize(
    ("body", "field_message"),
    [
        ({"id_number": NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")}, "校验位"),
        ({"id_number": "12345"}, "18"),
        ({}, "此项为必填项"),
    ],
)
def test_api_refuses_a_malformed_number_with_422(api_as, body, field_message):
    answer = api_as(role=Role.admin).post("/api/v1/privacy/person-export", json=body)
    assert answer.status_code == 422
    assert field_message in " ".join(answer.json["errors"]["json"]["id_number"])


@pytest.mark.parametrize("role", [Role.registry_admin, Role.coordinator, Role.mediator, Role.legal_aid_officer])
@pytest.mark.parametrize("call", ["person-export", "person-erase"])
def test_api_is_for_administrators_only(api_as, held, role, call):
    answer = api_as(role=role).post(f"/api/v1/privacy/{call}", json={"id_number": NUMBER})
    assert answer.status_code == 403
    assert _audit("personal_data_exported") == [] and _audit("personal_data_erased") == []
    assert not service.locate_person(SYSTEM, NUMBER).empty


def test_api_needs_a_token(client):
    assert client.post("/api/v1/privacy/person-export", json={"id_number": NUMBER}).status_code == 401


# --- pages ----------------------------------------------------------------------------------------------------


@pytest.fixture
def admin_page(signed_in, make_user):
    return signed_in(make_user(role=Role.admin))


def _token(html: str) -> str:
    return re.search(r'name="person" type="hidden" value="([^"]+)"', html).group(1)


def test_the_page_is_in_the_administrators_navigation_only(signed_in, make_user):
    assert "/privacy/person" in signed_in(make_user(role=Role.admin)).get("/").get_data(as_text=True)
    coordinator = signed_in(make_user(role=Role.coordinator))
    assert "/privacy/person" not in coordinator.get("/").get_data(as_text=True)
    assert coordinator.get("/privacy/person").status_code == 403
    assert coordinator.post("/privacy/person", data={"id_number": NUMBER}).status_code == 403


def test_lookup_shows_where_the_person_appears_masked(admin_page, held):
    assert admin_page.get("/privacy/person").status_code == 200
    answer = admin_page.post("/privacy/person", data={"id_number": NUMBER})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert MASKED in html and NUMBER not in html and PHONE not in html and "137****2222" in html
    assert held["first"].number in html and held["second"].number in html and held["application"].number in html
    assert 'id="records-mediators"' in html and "已停用" in html
    assert NUMBER not in _token(html)  # the next steps carry the number sealed, never in clear
    assert f'value="{NUMBER}"' not in html  # nor is what was typed written back into the form


def test_lookup_of_a_malformed_number_names_the_error_and_keeps_nothing_typed(admin_page):
    typed = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
    answer = admin_page.post("/privacy/person", data={"id_number": typed})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "校验位" in html
    assert typed not in html and f"输入的号码：{typed[:6]}********{typed[-4:]}" in html


def test_lookup_of_someone_not_held(admin_page):
    html = admin_page.post("/privacy/person", data={"id_number": valid_id_number(sequence=998)}).get_data(as_text=True)
    assert 'id="person-none"' in html and "export-json" not in html


def test_export_downloads_json_and_xlsx_as_audited_reveals(admin_page, held):
    token = _token(admin_page.post("/privacy/person", data={"id_number": NUMBER}).get_data(as_text=True))
    as_json = admin_page.post("/privacy/person/export", data={"person": token, "format": "json"})
    assert as_json.status_code == 200 and as_json.headers["X-Personal-Data"] == "revealed"
    assert as_json.headers["Content-Disposition"].startswith("attachment;")
    assert NUMBER not in as_json.headers["Content-Disposition"]
    assert json.loads(as_json.get_data(as_text=True))["legal_aid_applications"][0]["phone"] == PHONE
    as_xlsx = admin_page.post("/privacy/person/export", data={"person": token, "format": "xlsx"})
    assert as_xlsx.status_code == 200 and as_xlsx.headers["X-Personal-Data"] == "revealed"
    rows = list(load_workbook(io.BytesIO(as_xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("类别", "序号", "字段", "内容")
    assert ("当事人", 1, "id_number", NUMBER) in rows and ("调解员", 1, "phone", PHONE) in rows
    assert len(_audit("personal_data_exported")) == 2


def test_a_forged_or_stale_token_leads_back_to_the_lookup(app, admin_page, held):
    stale = (
        Fernet(app.config["PII_KEY"].encode())
        .encrypt_at_time(NUMBER.encode(), int(time.time()) - SEAL_SECONDS - 60)
        .decode()
    )
    for token in ("forged", stale, seal(NUMBER)[:-4] + "AAAA"):
        for url in ("/privacy/person/export", "/privacy/person/erase"):
            answer = admin_page.post(url, data={"person": token})
            assert answer.status_code == 302 and answer.headers["Location"].endswith("/privacy/person")
    assert _audit("personal_data_exported") == []


def test_erase_asks_for_confirmation_then_erases(admin_page, held):
    token = _token(admin_page.post("/privacy/person", data={"id_number": NUMBER}).get_data(as_text=True))
    confirm = admin_page.post("/privacy/person/erase", data={"person": token})
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and MASKED in html and "确认删除" in html and NUMBER not in html
    assert not service.locate_person(SYSTEM, NUMBER).empty  # nothing happens before the confirmation
    unticked = admin_page.post("/privacy/person/erase", data={"person": token, "stage": "confirm"})
    assert unticked.status_code == 422 and "请勾选确认" in unticked.get_data(as_text=True)
    done = admin_page.post(
        "/privacy/person/erase", data={"person": token, "stage": "confirm", "confirm": "y"}, follow_redirects=True
    )
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert f"已删除 {MASKED} 的个人信息：当事人 2 条（2 件案件）、调解员 1 条、法律援助申请 1 条" in html
    assert service.locate_person(SYSTEM, NUMBER).empty
    assert len(_audit("personal_data_erased")) == 1


def test_erase_of_an_active_mediator_is_refused_on_the_page(admin_page, held):
    held["mediator"].active = True
    db.session.commit()
    token = _token(admin_page.post("/privacy/person", data={"id_number": NUMBER}).get_data(as_text=True))
    answer = admin_page.post("/privacy/person/erase", data={"person": token, "stage": "confirm", "confirm": "y"})
    assert answer.status_code == 409 and 'id="erase-error"' in answer.get_data(as_text=True)
    assert not service.locate_person(SYSTEM, NUMBER).empty
