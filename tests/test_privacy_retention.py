"""Retention: the personal data of cases concluded or declined (legal-aid applications closed or refused) more than
MEDIATION_HUB_RETENTION_YEARS ago is erased by the daily job; the cases, their events and the statistics stay."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from mediation_hub import create_app
from mediation_hub.audit.models import AuditEntry
from mediation_hub.cases.models import Case, CaseEvent, CaseStatus, Outcome, Party
from mediation_hub.config import ConfigError
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.errors import PermissionDenied
from mediation_hub.extensions import db
from mediation_hub.legal_aid.models import ApplicationStatus, LegalAidApplication
from mediation_hub.privacy import service
from mediation_hub.privacy.tasks import erase_expired_personal_data
from mediation_hub.reporting.service import rates_report, transfer_flows_report
from mediation_hub.scheduler import JOBS
from tests.factories_cases import person

# 2025-11-25 10:00 in Shanghai: three years back is the anniversary 2022-11-25.
NOW = datetime(2025, 11, 25, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("today", "years", "cutoff"),
    [
        (date(2025, 11, 25), 3, date(2022, 11, 25)),
        (date(2025, 11, 25), 1, date(2024, 11, 25)),
        # 29 February: its anniversary in a common year is 1 March, so 28 February is more than 4 years back
        (date(2028, 2, 29), 3, date(2025, 3, 1)),
        (date(2028, 2, 29), 4, date(2024, 2, 29)),
    ],
)
def test_the_cutoff_is_the_anniversary(today, years, cutoff):
    assert service.retention_cutoff(today, years) == cutoff


def test_the_day_of_now_is_taken_in_shanghai():
    # 2025-11-24 17:00 UTC is already 2025-11-25 01:00 in Shanghai
    late = datetime(2025, 11, 24, 17, 0, tzinfo=UTC)
    assert service.retention_cutoff(late.astimezone(service.SHANGHAI).date(), 3) == date(2022, 11, 25)


def _concluded(make_case, org, concluded_on, **kwargs):
    received = concluded_on.replace(day=1) if concluded_on.day > 3 else concluded_on
    return make_case(
        org,
        CaseStatus.concluded,
        received_on=received,
        accepted_on=received,
        held_on=received,
        concluded_on=concluded_on,
        **kwargs,
    )


@pytest.fixture
def old_cases(make_org, make_case):
    """Four cases of one organisation in 2022: concluded 2022-11-24 (more than 3 years before NOW), concluded
    on the anniversary 2022-11-25 and on 2022-11-26 (kept), and declined 2022-11-20 (erased)."""
    org = make_org(region_code="110105")
    cases = {
        "concluded_1124": _concluded(
            make_case,
            org,
            date(2022, 11, 24),
            outcome=Outcome.agreement,
            parties=[person("applicant", "王大明", phone="13812345678"), person("respondent", "赵小红")],
        ),
        "concluded_1125": _concluded(make_case, org, date(2022, 11, 25), outcome=Outcome.no_agreement),
        "concluded_1126": _concluded(make_case, org, date(2022, 11, 26), outcome=Outcome.withdrawn),
        "declined_1120": make_case(org, CaseStatus.declined, received_on=date(2022, 11, 20)),
    }
    db.session.flush()
    return org, cases


def _parties(case):
    return db.session.scalars(sa.select(Party).where(Party.case_id == case.id).order_by(Party.position)).all()


def _report(org):
    return rates_report(
        SYSTEM,
        organization_id=org.id,
        date_from=date(2022, 1, 1),
        date_to=date(2022, 12, 31),
        as_of=date(2025, 11, 25),
        group_by="category",
    )


def test_cases_ended_more_than_three_years_ago_lose_their_parties_personal_data(app, old_cases):
    org, cases = old_cases
    before = _report(org)
    events_before = db.session.scalar(sa.select(sa.func.count()).select_from(CaseEvent))

    erased = erase_expired_personal_data(NOW)

    # concluded 2022-11-24 and declined 2022-11-20: two parties each; 2022-11-25 and 2022-11-26 are kept
    assert erased == 4
    for key in ("concluded_1124", "declined_1120"):
        for party in _parties(cases[key]):
            assert party.name == service.PLACEHOLDER
            assert party.erased_at is not None
            assert (party.id_number_enc, party.id_number_masked, party.id_number_hash) == (None, None, None)
            assert (party.phone_enc, party.phone_masked, party.phone_hash) == (None, None, None)
            assert party.full_id_number() is None and party.full_phone() is None
    for key in ("concluded_1125", "concluded_1126"):
        for party in _parties(cases[key]):
            assert party.name != service.PLACEHOLDER and party.erased_at is None
            assert party.id_number_masked and party.full_phone()
    # the case rows keep everything the statistics read, and the events all stay
    case = db.session.get(Case, cases["concluded_1124"].id)
    assert (case.status, case.outcome, case.concluded_on, case.category_code, case.occurred_region_code) == (
        CaseStatus.concluded,
        Outcome.agreement,
        date(2022, 11, 24),
        "neighbour",
        "110105",
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) == events_before
    after = _report(org)
    assert after == before
    # received 4, concluded 3 (agreement, no_agreement, withdrawn), declined 1; success 1/3
    totals = after["totals"]
    assert (totals["received"], totals["concluded"], totals["declined"], totals["agreement"]) == (4, 3, 1, 1)
    assert totals["success_rate"] == pytest.approx(1 / 3)
    # completion: 3 concluded + 1 declined of 4 received
    assert totals["completion_rate"] == 1.0


def test_the_job_is_idempotent_and_audited_with_counts_only(app, old_cases):
    _org, cases = old_cases
    assert erase_expired_personal_data(NOW) == 4
    assert erase_expired_personal_data(NOW) == 0
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "personal_data_erased")).all()
    assert len(entries) == 1  # the second run erased nothing and wrote nothing
    entry = entries[0]
    assert entry.username == "system" and entry.target_type == "retention"
    assert entry.detail == {
        "reason": "retention",
        "years": 3,
        "cutoff": "2022-11-25",
        "parties": 4,
        "cases": 2,
        "legal_aid_applications": 0,
    }
    text = str(entry.detail) + str(entry.target_id)
    assert "王大明" not in text and "13812345678" not in text
    # a day later the anniversary case goes too (2022-11-25 is then more than three years back)
    assert erase_expired_personal_data(datetime(2025, 11, 26, 2, 0, tzinfo=UTC)) == 2
    assert all(p.erased_at is not None for p in _parties(cases["concluded_1125"]))
    assert all(p.erased_at is None for p in _parties(cases["concluded_1126"]))


def test_open_cases_are_never_touched_however_old(app, make_org, make_case):
    org = make_org()
    running = make_case(org, CaseStatus.in_mediation, received_on=date(2021, 3, 1))
    assert erase_expired_personal_data(NOW) == 0
    assert all(p.erased_at is None for p in _parties(running))


def test_the_period_is_a_setting(app, old_cases):
    _org, _cases = old_cases
    app.config["RETENTION_YEARS"] = 4
    try:
        assert erase_expired_personal_data(NOW) == 0  # nothing ended before 2021-11-25
    finally:
        app.config["RETENTION_YEARS"] = 3
    assert erase_expired_personal_data(NOW) == 4


@pytest.mark.parametrize(("raw", "ok"), [("3", True), ("10", True), ("0", False), ("x", False)])
def test_the_setting_is_validated_at_start(monkeypatch, tmp_path, raw, ok):
    monkeypatch.setenv("MEDIATION_HUB_RETENTION_YEARS", raw)
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "TESTING": True}
    if ok:
        assert create_app(config).config["RETENTION_YEARS"] == int(raw)
    else:
        with pytest.raises(ConfigError, match="RETENTION_YEARS"):
            create_app(config)


def test_legal_aid_applications_closed_or_refused_long_ago_are_erased(app, make_application):
    # made applications: refused on 2025-09-15, closed on 2025-12-01, granted 2025-09-15 (still open)
    refused, *_ = make_application(ApplicationStatus.refused)
    closed, *_ = make_application(ApplicationStatus.closed)
    granted, *_ = make_application(ApplicationStatus.granted)
    period = (date(2025, 1, 1), date(2025, 12, 31))
    before = transfer_flows_report(SYSTEM, date_from=period[0], date_to=period[1])["legal_aid"]
    version = refused.version

    # 2028-11-25: the cutoff is 2025-11-25, after the refusal and before the closing
    assert erase_expired_personal_data(datetime(2028, 11, 25, 2, 0, tzinfo=UTC)) == 1
    db.session.refresh(refused)
    assert refused.applicant_name == service.PLACEHOLDER
    assert refused.id_number_hash is None and refused.phone_enc is None and refused.id_number_masked is None
    assert refused.version == version + 1
    assert (refused.status, refused.decided_on, refused.granted) == (
        ApplicationStatus.refused,
        date(2025, 9, 15),
        False,
    )
    for application in (closed, granted):
        assert db.session.get(LegalAidApplication, application.id).applicant_name == "李秀英"
    # 2028-12-02: the cutoff 2025-12-02 is after the closing on 2025-12-01; the granted one never ends
    assert erase_expired_personal_data(datetime(2028, 12, 2, 2, 0, tzinfo=UTC)) == 1
    assert db.session.get(LegalAidApplication, closed.id).applicant_name == service.PLACEHOLDER
    assert db.session.get(LegalAidApplication, granted.id).id_number_hash is not None
    assert erase_expired_personal_data(datetime(2028, 12, 2, 2, 0, tzinfo=UTC)) == 0
    after = transfer_flows_report(SYSTEM, date_from=period[0], date_to=period[1])["legal_aid"]
    assert after == before
    assert (after["applications"], after["decided"], after["granted"]) == (3, 3, 2)


def test_many_parties_are_erased_in_batches(app, monkeypatch, make_org, make_case):
    monkeypatch.setattr(service, "BATCH", 3)
    org = make_org()
    for day in (1, 2, 3, 4):  # 4 cases × 2 parties = 8 parties: batches of 3, 3, 2
        _concluded(make_case, org, date(2022, 3, day))
    run = service.erase_expired_personal_data(SYSTEM, NOW, 3)
    assert (run.parties, run.cases, run.legal_aid_applications) == (8, 4, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Party).where(Party.erased_at.is_(None))) == 0


def test_only_an_administrator_or_the_system_runs_it(app, make_user):
    coordinator = make_user(role=Role.coordinator).to_actor()
    with pytest.raises(PermissionDenied):
        service.erase_expired_personal_data(coordinator, NOW, 3)


def test_the_job_is_scheduled_daily():
    job = next(j for j in JOBS if j.id == "privacy.retention")
    assert job.func == "mediation_hub.privacy.tasks:erase_expired_personal_data" and job.load() is not None
    # fires at 02:30 Shanghai every day: the slot of 2025-11-25 03:00 Shanghai is 2025-11-24 18:30 UTC
    assert job.slot(datetime(2025, 11, 24, 19, 0, tzinfo=UTC)) == "2025-11-24T18:30:00Z"
