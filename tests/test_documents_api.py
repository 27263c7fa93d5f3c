"""The documents of a case through the API (issue 14): what is available and why not, the PDF read back,
numbers per organisation and year, versions kept, full numbers only for the handling organisation (audited)."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime

import pytest
import sqlalchemy as sa
import time_machine
from pypdf import PdfReader

from mediation_hub.audit.models import AuditEntry
from mediation_hub.cases import service as cases
from mediation_hub.cases.models import CaseEvent, CaseStatus, Outcome
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.pii import mask_id_number
from mediation_hub.core.shanghai import SHANGHAI
from mediation_hub.documents.models import DocumentFile, DocumentVersion
from mediation_hub.extensions import db
from tests.factories_cases import person

# The factory's case: received and accepted 2026-03-02, a session on 03-03, concluded with an agreement on 03-04;
# the 30-day window for 司法确认 runs to 2026-04-03. Documents are asked for on 2026-03-10.
ASKED_ON = datetime(2026, 3, 10, 10, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _on_march_10():
    with time_machine.travel(ASKED_ON, tick=False):
        yield


def pdf_text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """The text without the line breaks and spaces the typesetter put in (a long value wraps)."""
    return re.sub(r"\s+", "", text)


@pytest.fixture
def world(make_org, make_case, make_user, api_as):
    org = make_org(name="竞秀区人民调解委员会", document_code="保竞")
    parties = [person("applicant", "张三"), person("respondent", "李四")]
    case = make_case(org, CaseStatus.concluded, parties=parties)
    mediator = api_as(role=Role.mediator, organization=org)
    return {"org": org, "case": case, "api": mediator, "parties": parties}


def test_the_list_says_what_is_available_and_why_not(make_case, world, api_as):
    registered = make_case(world["org"])
    listing = world["api"].get(f"/api/v1/cases/{registered.id}/documents").get_json()
    by_kind = {item["kind"]: item for item in listing["items"]}
    assert list(by_kind) == [
        "application",
        "registration",
        "rights_notice",
        "session_record",
        "agreement",
        "oral_agreement",
        "follow_up",
        "confirmation_application",
        "file",
    ]
    assert by_kind["application"]["available"] is True and by_kind["application"]["reason"] is None
    assert by_kind["agreement"] == {
        "kind": "agreement",
        "title": "人民调解协议书",
        "available": False,
        "reason": "案件以达成调解协议办结后才能制作协议书",
        "reason_code": "document_needs_agreement",
        "items": None,
    }
    assert by_kind["registration"]["reason_code"] == "document_needs_decision"
    assert by_kind["file"]["reason_code"] == "document_needs_conclusion"
    assert listing["issued"] == []

    concluded = world["api"].get(f"/api/v1/cases/{world['case'].id}/documents").get_json()
    available = {item["kind"] for item in concluded["items"] if item["available"]}
    assert available == {
        "application",
        "registration",
        "rights_notice",
        "session_record",
        "agreement",
        "confirmation_application",
        "file",
    }
    sessions = next(i for i in concluded["items"] if i["kind"] == "session_record")["items"]
    assert [s["on"] for s in sessions] == ["2026-03-03"]


def test_the_agreement_as_printed_for_the_handling_organisation(world):
    case, api = world["case"], world["api"]
    response = api.get(f"/api/v1/cases/{case.id}/documents/agreement")
    text = flat(pdf_text(response))
    applicant, respondent = world["parties"]
    assert case.number in text
    assert "张三" in text and "李四" in text
    assert "被申请人赔偿维修费" in text  # the terms
    assert "1,200.00元" in text  # the amount
    assert "（2026）保竞调字第1号" in text
    digest = response.headers["X-Document-Digest"]
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and digest in text
    # the agreement needs the full ID numbers: this download is a reveal, audited, never cached
    assert applicant["id_number"] in text and respondent["id_number"] in text
    assert response.headers["X-Personal-Data"] == "revealed"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Document-SHA256"] == hashlib.sha256(response.data).hexdigest()
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "document_with_numbers")).one()
    assert (entry.user_id, entry.target_type, entry.target_id) == (api.user.id, "case", str(case.id))
    assert entry.detail == {"number": case.number, "kind": "agreement", "version": 1}
    assert applicant["id_number"] not in str(entry.detail)
    event = db.session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.code == "document_with_numbers")
    ).one()
    assert event.data == {"kind": "agreement", "version": 1}


def test_outside_the_handling_organisation_the_numbers_are_masked_and_nothing_is_audited(world, api_as):
    case = world["case"]
    official = api_as(role=Role.coordinator, region_code="110105")
    response = official.get(f"/api/v1/cases/{case.id}/documents/agreement")
    text = flat(pdf_text(response))
    applicant = world["parties"][0]
    assert applicant["id_number"] not in text
    assert mask_id_number(applicant["id_number"]) in text
    assert "本件证件号码已遮蔽" in text
    assert "X-Personal-Data" not in response.headers
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "document_with_numbers")
        )
        == 0
    )


@pytest.mark.parametrize("kind", ["application", "registration", "rights_notice", "session_record"])
def test_every_other_document_shows_masked_numbers_even_to_the_handling_organisation(world, kind):
    response = world["api"].get(f"/api/v1/cases/{world['case'].id}/documents/{kind}")
    text = flat(pdf_text(response))
    assert world["case"].number in text
    for party in world["parties"]:
        assert party["id_number"] not in text
    assert "X-Personal-Data" not in response.headers


def test_another_organisations_case_is_not_found(world, api_as):
    stranger = api_as(role=Role.mediator)
    for path in ("", "/agreement", "/file"):
        response = stranger.get(f"/api/v1/cases/{world['case'].id}/documents{path}")
        assert response.status_code == 404
        assert response.get_json()["error"] == "case_not_found"


def test_a_document_not_available_yet_is_a_conflict_with_the_reason(make_case, world):
    registered = make_case(world["org"])
    response = world["api"].get(f"/api/v1/cases/{registered.id}/documents/agreement")
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "document_needs_agreement"
    assert body["message"] == "案件以达成调解协议办结后才能制作协议书"


def test_unknown_kind_and_bad_format(world):
    api, case = world["api"], world["case"]
    assert api.get(f"/api/v1/cases/{case.id}/documents/nonsense").status_code == 404
    response = api.get(f"/api/v1/cases/{case.id}/documents/application?format=odt")
    assert response.status_code == 422 and "format" in response.get_json()["errors"]["query"]


def test_the_confirmation_window_closes_after_30_days(world, api_as):
    api, case = world["api"], world["case"]
    assert case.confirmation_deadline.isoformat() == "2026-04-03"
    with time_machine.travel(datetime(2026, 4, 3, 18, tzinfo=SHANGHAI), tick=False):
        api = api_as(user=api.user)  # a token of that day
        assert api.get(f"/api/v1/cases/{case.id}/documents/confirmation_application").status_code == 200
    with time_machine.travel(datetime(2026, 4, 4, 9, tzinfo=SHANGHAI), tick=False):
        response = api_as(user=api.user).get(f"/api/v1/cases/{case.id}/documents/confirmation_application")
    assert response.status_code == 409
    assert response.get_json()["error"] == "document_confirmation_window_closed"
    assert "2026-04-03" in response.get_json()["message"]


def test_the_confirmation_application_lists_the_package_and_shows_full_numbers(world):
    response = world["api"].get(f"/api/v1/cases/{world['case'].id}/documents/confirmation_application")
    text = flat(pdf_text(response))
    assert "司法确认申请书" in text and "人民调解协议书" in text
    assert world["parties"][0]["id_number"] in text
    assert response.headers["X-Personal-Data"] == "revealed"


def test_numbers_run_per_organisation_and_year_and_a_case_keeps_its_number(make_org, make_case, world, api_as):
    org, api = world["org"], world["api"]
    second = make_case(org, CaseStatus.accepted)
    other_org = make_org(name="莲池区人民调解委员会", document_code="保莲")
    elsewhere = make_case(other_org, CaseStatus.accepted)

    def number(client, case, kind="registration"):
        response = client.get(f"/api/v1/cases/{case.id}/documents/{kind}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return flat(pdf_text(response))

    with time_machine.travel(datetime(2027, 1, 5, 10, tzinfo=SHANGHAI), tick=False):
        later = make_case(org, CaseStatus.accepted, received_on=datetime(2027, 1, 4).date())
        api = api_as(user=api.user)  # a token of that day
        assert "（2026）保竞调字第1号" in number(api, second)
        assert "（2026）保竞调字第2号" in number(api, world["case"], "agreement")
        assert "（2026）保竞调字第2号" in number(api, world["case"])  # the same case: the same number
        assert "（2027）保竞调字第1号" in number(api, later)  # accepted in 2027: that year's first
        assert "（2026）保莲调字第1号" in number(api_as(role=Role.mediator, organization=other_org), elsewhere)


def test_the_same_facts_give_the_same_bytes_and_a_change_makes_a_new_version(world, api_as):
    api, case = world["api"], world["case"]
    first = api.get(f"/api/v1/cases/{case.id}/documents/file")
    again = api.get(f"/api/v1/cases/{case.id}/documents/file")
    assert first.status_code == again.status_code == 200
    assert first.data == again.data and first.headers["X-Document-Version"] == "1"
    cases.record_follow_up(
        SYSTEM, case.id, visited_on=datetime(2026, 3, 9).date(), summary="已按协议赔偿", performed=True
    )
    db.session.commit()
    changed = api.get(f"/api/v1/cases/{case.id}/documents/file")
    assert changed.headers["X-Document-Version"] == "2" and changed.data != first.data
    assert "已按协议赔偿" in flat(pdf_text(changed))
    versions = db.session.scalars(sa.select(DocumentVersion).order_by(DocumentVersion.version)).all()
    assert [v.version for v in versions] == [1, 2]
    kept = db.session.scalars(sa.select(DocumentFile).order_by(DocumentFile.id)).all()
    assert [f.sha256 for f in kept] == [
        hashlib.sha256(first.data).hexdigest(),
        hashlib.sha256(changed.data).hexdigest(),
    ]
    # full numbers inside: the kept bytes are encrypted at rest, like the numbers themselves
    assert all(f.full_numbers and not f.content.startswith(b"%PDF") for f in kept)
    issued = api.get(f"/api/v1/cases/{case.id}/documents").get_json()["issued"]
    assert [(i["kind"], i["version"], i["sha256"]) for i in issued] == [
        ("file", 1, kept[0].sha256),
        ("file", 2, kept[1].sha256),
    ]
    found = api.get(f"/api/v1/documents/by-digest?digest={first.headers['X-Document-Digest']}").get_json()
    assert (found["record_number"], found["kind"], found["version"]) == (case.number, "file", 1)
    stranger = api_as(role=Role.mediator)  # another organisation: the paper's digest names nothing it may see
    assert stranger.get(f"/api/v1/documents/by-digest?digest={first.headers['X-Document-Digest']}").status_code == 404


def test_the_file_holds_the_cover_the_contents_and_every_document(world):
    response = world["api"].get(f"/api/v1/cases/{world['case'].id}/documents/file?retention=长期")
    reader = PdfReader(io.BytesIO(response.data))
    pages = [flat(page.extract_text()) for page in reader.pages]
    assert "人民调解卷宗" in pages[0] and "长期" in pages[0] and "（2026）保竞调字第1号" in pages[0]
    assert "卷内目录" in pages[1]
    order = [
        "人民调解申请书",
        "人民调解受理登记表",
        "当事人权利义务告知书",
        "当事人身份证明",
        "人民调解记录",
        "人民调解协议书",
    ]
    positions = [pages[1].index(title) for title in order]
    assert positions == sorted(positions)
    assert all(f"第{n}页共{len(pages)}页" in page for n, page in enumerate(pages, start=1))
    assert response.headers["X-Personal-Data"] == "revealed"


def test_docx_for_editing(world):
    response = world["api"].get(f"/api/v1/cases/{world['case'].id}/documents/application?format=docx")
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    from docx import Document

    body = "".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
    assert "人民调解申请书" in body


def test_an_oral_agreement_has_its_registration_form_instead_of_the_agreement(make_case, world):
    oral = make_case(world["org"], CaseStatus.concluded, outcome=Outcome.agreement, agreement_form="oral")
    db.session.commit()  # the refusal below rolls the request's work back, and with it anything not committed
    api = world["api"]
    assert api.get(f"/api/v1/cases/{oral.id}/documents/agreement").get_json()["error"] == "document_agreement_oral"
    assert "人民调解口头协议登记表" in flat(pdf_text(api.get(f"/api/v1/cases/{oral.id}/documents/oral_agreement")))


def test_erasing_a_person_takes_the_kept_papers_and_the_particulars_with_the_name(world):
    from mediation_hub.cases.models import Party
    from mediation_hub.privacy import service as privacy

    api, case = world["api"], world["case"]
    first = api.get(f"/api/v1/cases/{case.id}/documents/agreement")
    assert first.status_code == 200
    party = db.session.scalars(sa.select(Party).where(Party.case_id == case.id, Party.name == "张三")).one()
    party.address, party.occupation, party.gender = "保定市竞秀区朝阳北大街 1 号", "教师", "male"
    db.session.flush()
    privacy.erase_person(SYSTEM, world["parties"][0]["id_number"])
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DocumentFile)) == 0
    assert (party.address, party.occupation, party.gender) == (None, None, None)
    # the bytes and their digest are gone; printed again, the paper no longer carries the person
    found = api.get(f"/api/v1/documents/by-digest?digest={first.headers['X-Document-Digest']}")
    assert found.status_code == 404
    again = api.get(f"/api/v1/cases/{case.id}/documents/agreement")
    text = flat(pdf_text(again))
    assert "张三" not in text
    assert world["parties"][0]["id_number"] not in text
    assert again.headers["X-Document-Version"] == "2"


def test_without_a_chinese_font_the_answer_says_so(world, app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "DOCUMENT_FONT_PATHS", str(tmp_path))  # a folder without any font
    response = world["api"].get(f"/api/v1/cases/{world['case'].id}/documents/application")
    assert response.status_code == 503
    assert response.get_json()["error"] == "document_font_missing"


def test_the_page_prints_the_file_with_the_retention_left_to_write_by_hand(world, signed_in):
    client = signed_in(world["api"].user)
    response = client.get(f"/cases/{world['case'].id}/documents/file?retention=&format=pdf")
    pages = PdfReader(io.BytesIO(response.data)).pages
    assert response.status_code == 200 and "保管期限：" in pages[0].extract_text().replace(" ", "")
    assert client.get(f"/cases/{world['case'].id}/documents/file?retention=十年").status_code == 422
    assert client.get(f"/cases/{world['case'].id}/documents/agreement?retention=长期").status_code == 422


@pytest.mark.parametrize(
    ("status", "title", "lines"),
    [
        ("refused", "不予法律援助决定书", ["不符合经济困难标准"]),
        ("assigned", "给予法律援助决定书", []),
    ],
)
def test_the_legal_aid_decision_is_numbered_by_the_deciding_centre(
    make_application, make_officer, api_as, status, title, lines
):
    from mediation_hub.legal_aid.models import ApplicationStatus

    application, _tianjin, baoding = make_application(ApplicationStatus(status))
    baoding.document_code = "保"
    officer = api_as(make_officer(baoding))
    listing = officer.get(f"/api/v1/legal-aid/applications/{application.id}/documents").get_json()["items"]
    available = {item["kind"] for item in listing if item["available"]}
    assert available == {"application_form", "decision"} | ({"assignment_notice"} if status == "assigned" else set())
    text = flat(pdf_text(officer.get(f"/api/v1/legal-aid/applications/{application.id}/documents/decision")))
    assert title in text and "李秀英" in text and application.number in text
    assert "（2025）保法援决字第1号" in text  # the year it was decided (2025-09-15), the centre that decided
    assert all(line in text for line in lines)
    notice = officer.get(f"/api/v1/legal-aid/applications/{application.id}/documents/supplement_notice")
    assert notice.status_code == 409 and notice.get_json()["error"] == "document_needs_supplement_request"
