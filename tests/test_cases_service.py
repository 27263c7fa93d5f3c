"""Case service: registration rules, numbering, duplicate warnings, scope, worklist, search and reveal."""

from datetime import date, timedelta

import pytest

from mediation_hub.audit.models import AuditEntry
from mediation_hub.cases import service
from mediation_hub.cases.models import CaseStatus, Outcome
from mediation_hub.cases.policy import POLICY as CASES
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.errors import NotFound, PermissionDenied, ValidationFailed
from mediation_hub.extensions import db
from tests.factories import valid_id_number
from tests.factories_cases import case_data, organization_party, person, valid_uscc


def _errors(data, actor=SYSTEM) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        service.register_case(actor, data)
    return caught.value.errors


# --- registration rules -----------------------------------------------------------------------------------


def test_parties_are_stored_encrypted_masked_and_hashed(make_org):
    org = make_org()
    number, code = valid_id_number(), valid_uscc()
    case, warnings = service.register_case(
        SYSTEM,
        case_data(
            org.id,
            parties=[
                person("applicant", id_number=number, phone="13912345678"),
                organization_party("respondent", code=code),
            ],
        ),
    )
    applicant, company = case.parties
    assert warnings == []
    assert applicant.id_number_masked == number[:6] + "********" + number[-4:]
    assert applicant.phone_masked == "139****5678"
    assert number not in (applicant.id_number_enc or "") and applicant.full_id_number() == number
    assert company.id_number_masked == code[:8] + "******" + code[-4:] and company.full_id_number() == code
    assert [e.code for e in case.events] == ["registered"]


def test_registration_gathers_every_failure_under_its_field_path(make_org, make_studio, make_mediator):
    org = make_org()
    foreign_studio, foreign_mediator = make_studio(), make_mediator()
    applicant = person("applicant", with_number=False)  # an applicant needs an ID number
    respondent = person("respondent", id_number="110105198005170001", region_code="999999")
    company = organization_party("third_party")
    company["id_number"] = valid_id_number()  # an organisation has a USCC instead
    company["uscc"] = "91110105MA00000000"  # and this one has a wrong check digit
    errors = _errors(
        case_data(
            org.id,
            parties=[applicant, respondent, company],
            summary="  ",
            source="unknown",
            occurred_region_code="XIONGAN",
            amount_yuan=-1,
            received_on=today_shanghai() + timedelta(days=1),
            studio_id=foreign_studio.id,
            mediator_ids=[foreign_mediator.id],
        )
    )
    assert set(errors) == {
        "parties.0.id_number",
        "parties.1.id_number",
        "parties.1.region_code",
        "parties.2.id_number",
        "parties.2.uscc",
        "summary",
        "source",
        "occurred_region_code",
        "amount_yuan",
        "received_on",
        "studio_id",
        "mediator_ids",
    }


def test_a_respondent_without_an_id_number_is_fine_but_one_given_is_checked(make_org):
    org = make_org()
    case, _ = service.register_case(
        SYSTEM, case_data(org.id, parties=[person("applicant"), person("respondent", with_number=False)])
    )
    assert case.parties[1].id_number_masked is None


@pytest.mark.parametrize("roles", [["applicant", "applicant"], ["respondent"], ["applicant", "third_party"]])
def test_at_least_one_applicant_and_one_respondent(make_org, roles):
    assert "parties" in _errors(case_data(make_org().id, parties=[person(r) for r in roles]))


def test_a_mediator_registers_for_their_own_mediation_organisation_only(make_org, make_user):
    from mediation_hub.registry.models import OrgKind

    own = make_org()
    actor = make_user(role=Role.mediator, organization=own).to_actor()
    assert "organization_id" in _errors(case_data(make_org().id), actor)
    case, _ = service.register_case(actor, case_data(None))  # defaults to the actor's organisation
    assert case.organization_id == own.id and case.registered_by_id == actor.user_id
    bureau = make_org(kind=OrgKind.justice_bureau)
    assert "organization_id" in _errors(case_data(bureau.id))


def test_a_coordinator_may_not_register(make_user, make_org):
    actor = make_user(role=Role.coordinator, region_code="110000").to_actor()
    with pytest.raises(PermissionDenied):
        service.register_case(actor, case_data(make_org().id))


def test_numbers_run_per_organisation_and_year(make_org, make_case):
    first, second = make_org(), make_org(region_code="130602")
    a1 = make_case(first)
    a2 = make_case(first)
    b1 = make_case(second)
    a_2025 = make_case(first, received_on=date(2025, 12, 30))
    assert a1.number == f"MH-110105-{first.id}-2026-000001"
    assert a2.number == f"MH-110105-{first.id}-2026-000002"
    assert b1.number == f"MH-130602-{second.id}-2026-000001"
    assert a_2025.number == f"MH-110105-{first.id}-2025-000001"


# --- duplicates -----------------------------------------------------------------------------------------------

# The rule itself (90 days, open states, scope, confirmation) is tested in tests/test_registration_day.py.


def test_the_same_party_in_a_recent_open_case_warns_in_either_role(make_org, make_case):
    org, today = make_org(), today_shanghai()
    applicant = person("applicant", name="张伟")
    existing = make_case(
        org,
        CaseStatus.in_mediation,
        parties=[applicant, person("respondent", name="刘洋")],
        received_on=today - timedelta(days=5),
    )
    # the earlier applicant is now the respondent: the same person by the keyed hash of the ID number
    swapped = [person("applicant", name="刘洋"), dict(applicant, role="respondent")]
    case, warnings = service.register_case(SYSTEM, case_data(org.id, parties=swapped, received_on=today))
    assert [(w["code"], w["case_id"], w["number"]) for w in warnings] == [
        ("possible_duplicate", existing.id, existing.number)
    ]
    assert case.events[0].data["possible_duplicates"] == [existing.id]


def test_no_warning_for_a_closed_case_or_the_same_name_alone(make_org, make_case):
    org, today = make_org(), today_shanghai()
    applicant = person("applicant", name="张伟")
    make_case(
        org,
        CaseStatus.concluded,
        parties=[applicant, person("respondent", name="刘洋")],
        received_on=today - timedelta(days=10),
    )
    make_case(
        org,
        parties=[person("applicant", name="陈静"), person("respondent", name="刘洋")],
        received_on=today - timedelta(days=3),
    )
    _, warnings = service.register_case(
        SYSTEM,
        case_data(
            org.id,
            received_on=today,
            parties=[applicant, person("respondent", name="刘洋"), person("third_party", name="陈静")],
        ),
    )
    assert warnings == []


def test_a_duplicate_in_another_organisation_is_only_counted(make_org, make_case, make_user):
    applicant, respondent = person("applicant"), person("respondent")
    elsewhere = make_case(make_org(), parties=[applicant, respondent], received_on=today_shanghai())
    own = make_org()
    actor = make_user(role=Role.mediator, organization=own).to_actor()
    _, [warning] = service.register_case(
        actor, case_data(own.id, parties=[applicant, respondent], received_on=today_shanghai())
    )
    assert (warning["code"], warning["case_id"], warning["number"], warning["visible"]) == (
        "possible_duplicate_elsewhere",
        None,
        None,
        False,
    )
    assert elsewhere.number not in warning["message"]


# --- scope ------------------------------------------------------------------------------------------------------


def test_scope_by_role(make_org, make_case, make_user):
    chaoyang, baoding = make_org(region_code="110105"), make_org(region_code="130602")
    bj, hb = make_case(chaoyang), make_case(baoding)
    mediator = make_user(role=Role.mediator, organization=chaoyang).to_actor()
    coordinator = make_user(role=Role.coordinator, region_code="130000").to_actor()
    admin = make_user(role=Role.admin).to_actor()

    def ids(actor):
        return set(
            db.session.scalars(
                service.cases_visible_to(actor).with_only_columns(
                    service.cases_visible_to(actor).selected_columns[0].table.c.id
                )
            )
        )

    assert {bj.id, hb.id} <= ids(admin)
    assert bj.id in ids(mediator) and hb.id not in ids(mediator)
    assert hb.id in ids(coordinator) and bj.id not in ids(coordinator)
    with pytest.raises(NotFound):
        service.get_case(mediator, hb.id)


def test_a_co_mediating_organisation_sees_the_case(make_org, make_case, make_user):
    from mediation_hub.transfers.models import CaseCoOrganization

    lead, partner = make_org(), make_org(region_code="120101")
    case = make_case(lead, CaseStatus.accepted)
    actor = make_user(role=Role.mediator, organization=partner).to_actor()
    with pytest.raises(NotFound):
        service.get_case(actor, case.id)
    db.session.add(CaseCoOrganization(case_id=case.id, organization_id=partner.id, since=date(2026, 3, 3)))
    db.session.flush()
    assert service.get_case(actor, case.id) is case
    assert not CASES.allows(actor, "handle", case)  # co-mediating partners see it; the lead organisation moves it


# --- worklist, overdue, search ------------------------------------------------------------------------------


def test_worklist_lists_open_cases_nearest_due_first(make_org, make_case, make_user):
    org = make_org()
    later = make_case(org, CaseStatus.accepted, received_on=date(2026, 3, 2))  # due 2026-04-01
    sooner = make_case(org, CaseStatus.in_mediation, received_on=date(2026, 2, 2))  # due 2026-03-04
    fresh = make_case(org, received_on=date(2026, 3, 20))  # registered: by received_on
    make_case(org, CaseStatus.concluded)
    make_case(org, CaseStatus.declined)
    make_case(make_org(), CaseStatus.accepted)  # another organisation
    actor = make_user(role=Role.mediator, organization=org).to_actor()
    assert sooner.due_on == date(2026, 3, 4)
    assert db.session.scalars(service.worklist(actor)).all() == [sooner, fresh, later]


def test_is_overdue_only_for_running_cases_past_their_due_date(make_case):
    running = make_case(status=CaseStatus.accepted)  # due 2026-04-01
    assert service.is_overdue(running, date(2026, 4, 1)) is False
    assert service.is_overdue(running, date(2026, 4, 2)) is True
    done = make_case(status=CaseStatus.concluded)
    assert service.is_overdue(done, date(2027, 1, 1)) is False
    assert service.is_overdue(make_case(), date(2027, 1, 1)) is False


def test_search_by_id_number_uses_the_keyed_hash(make_org, make_case):
    org = make_org()
    number = valid_id_number()
    wanted = make_case(org, parties=[person("applicant", id_number=number), person("respondent")])
    make_case(org)
    found = db.session.scalars(service.search_cases(SYSTEM, q=number, organization_id=org.id)).all()
    assert found == [wanted]


def test_search_by_region_subtree_and_studio(make_org, make_case, make_studio):
    beijing, hebei = make_org(region_code="110108"), make_org(region_code="130602")
    studio = make_studio(organization=beijing)
    in_studio = make_case(beijing, studio_id=studio.id)
    make_case(hebei)
    assert db.session.scalars(service.search_cases(SYSTEM, region_code="110000", studio_id=studio.id)).all() == [
        in_studio
    ]
    assert in_studio not in db.session.scalars(service.search_cases(SYSTEM, region_code="130000")).all()
    with pytest.raises(ValidationFailed):
        service.search_cases(SYSTEM, region_code="999999")


# --- reveal -------------------------------------------------------------------------------------------------------


def test_reveal_only_for_the_handling_organisation(make_org, make_case, make_user):
    org = make_org()
    number = valid_id_number()
    case = make_case(org, parties=[person("applicant", id_number=number, phone="13800138000"), person("respondent")])
    party = case.parties[0]
    admin = make_user(role=Role.admin).to_actor()
    with pytest.raises(PermissionDenied):
        service.reveal_party_numbers(admin, case.id, party.id)
    other = make_user(role=Role.mediator, organization=make_org()).to_actor()
    with pytest.raises(NotFound):
        service.reveal_party_numbers(other, case.id, party.id)
    mediator = make_user(role=Role.mediator, organization=org).to_actor()
    with pytest.raises(NotFound):
        service.reveal_party_numbers(mediator, case.id, party.id + 10_000)
    assert db.session.query(AuditEntry).filter_by(action="reveal_id_number").count() == 0
    revealed = service.reveal_party_numbers(mediator, case.id, party.id, remote_addr="10.0.0.8")
    assert revealed == {"party_id": party.id, "id_number": number, "phone": "13800138000"}
    entry = db.session.query(AuditEntry).filter_by(action="reveal_id_number").one()
    assert (entry.user_id, entry.target_type, entry.target_id, entry.remote_addr) == (
        mediator.user_id,
        "party",
        str(party.id),
        "10.0.0.8",
    )
    assert case.events[-1].code == "party_number_revealed" and case.events[-1].data == {"party_id": party.id}
    assert case.version == 1  # a reveal is not a change of the case


def test_conclusion_outcomes_record_what_the_law_asks(make_case):
    referred = make_case(status=CaseStatus.concluded, outcome=Outcome.referred)
    assert referred.outcome == Outcome.referred and "已告知当事人" in referred.events[-1].data["note"]
    agreed = make_case(status=CaseStatus.concluded)
    assert agreed.agreement_amount_yuan == 1200 and agreed.events[-1].data["on_time"] is True
