"""Deadline arithmetic with hand-worked dates, and cross-region detection, from the one calendar and the
agreements table."""

from datetime import date

import pytest
import sqlalchemy as sa

from mediation_hub.agreements.models import Agreement
from mediation_hub.cases import service
from mediation_hub.cases.models import CaseStatus, Outcome
from mediation_hub.core.actor import SYSTEM
from mediation_hub.core.calendar import CalendarDay, CalendarYear, add_calendar_days, add_working_days
from mediation_hub.errors import ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.registry.models import OrgKind
from tests.factories_cases import person


def test_five_working_days_across_national_day_and_its_make_up_saturday():
    # 2025-09-29 Mon is the start (not counted). 09-30 Tue = 1; 10-01..10-08 National Day/Mid-Autumn holiday;
    # 10-09 Thu = 2; 10-10 Fri = 3; 10-11 Sat is a make-up workday = 4; 10-12 Sun rests; 10-13 Mon = 5.
    assert add_working_days(date(2025, 9, 29), 5) == date(2025, 10, 13)


def test_thirty_days_from_acceptance_ending_on_a_holiday_moves_to_the_next_working_day(make_case):
    # Accepted 2025-09-01: counting starts 09-02, day 30 is 2025-10-01 (National Day). The holiday runs to
    # 10-08, so the limit ends on the next working day, Thu 2025-10-09 (Civil Code arts. 201, 203).
    case = make_case(status=CaseStatus.accepted, received_on=date(2025, 9, 1))
    assert case.accepted_on == date(2025, 9, 1)
    assert case.due_on == date(2025, 10, 9)


def test_time_limit_per_organisation_kind_from_config(app, make_case, make_org, monkeypatch):
    monkeypatch.setitem(app.config, "CASE_TIME_LIMIT_DAYS", {"default": 30, "commercial_mediation": 45})
    commercial = make_org(kind=OrgKind.commercial_mediation)
    # 2025-09-01 + 45 days: September has 30 days, so 09-01 + 29 = 09-30 and + 16 more = Thu 2025-10-16,
    # a working day.
    assert make_case(commercial, CaseStatus.accepted, received_on=date(2025, 9, 1)).due_on == date(2025, 10, 16)
    assert make_case(status=CaseStatus.accepted, received_on=date(2025, 9, 1)).due_on == date(2025, 10, 9)


def test_agreement_opens_the_confirmation_window_and_sets_the_follow_up(make_case):
    # Concluded 2025-09-05: + 30 days = 2025-10-05, a Sunday inside the holiday -> next working day 10-09.
    case = make_case(
        status=CaseStatus.concluded,
        received_on=date(2025, 9, 1),
        held_on=date(2025, 9, 3),
        concluded_on=date(2025, 9, 5),
    )
    assert case.confirmation_deadline == date(2025, 10, 9)
    assert case.follow_up_due_on == date(2025, 10, 9)
    # Concluded 2025-09-10: + 30 days = Fri 2025-10-10, a working day, stays.
    other = make_case(status=CaseStatus.concluded, received_on=date(2025, 9, 1), concluded_on=date(2025, 9, 10))
    assert other.confirmation_deadline == date(2025, 10, 10)


def test_no_agreement_sets_no_confirmation_window(make_case):
    case = make_case(status=CaseStatus.concluded, outcome=Outcome.no_agreement)
    assert case.confirmation_deadline is None and case.follow_up_due_on is None
    assert "已告知当事人" in case.events[-1].data["note"]  # People's Mediation Law art. 26


def test_extension_counts_from_the_old_due_date(make_case):
    case = make_case(status=CaseStatus.accepted, received_on=date(2025, 9, 1))  # due 2025-10-09 (above)
    # 10-09 + 2 days = Sat 2025-10-11, a make-up workday, so it stands.
    service.extend_time_limit(
        SYSTEM, case.id, days=2, consent_note="双方当事人书面同意延期", extended_on=date(2025, 9, 20)
    )
    assert case.due_on == date(2025, 10, 11)
    event = case.events[-1]
    assert (event.code, event.data["previous_due_on"], event.data["due_on"]) == (
        "time_limit_extended",
        "2025-10-09",
        "2025-10-11",
    )


def _forget_year(year: int) -> None:
    db.session.execute(sa.delete(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))
    db.session.execute(sa.delete(CalendarYear).where(CalendarYear.year == year))
    db.session.flush()


def test_a_deadline_before_the_first_covered_year_is_a_422_and_changes_nothing(make_case):
    # chinesecalendar starts in 2004: 2003 cannot be counted (later years are provisional, never refused)
    case = make_case(received_on=date(2003, 9, 1))
    with pytest.raises(ValidationFailed) as caught:
        service.accept_case(SYSTEM, case.id, accepted_on=date(2003, 9, 1))
    assert "2003年的工作日历尚未载入" in caught.value.errors["accepted_on"][0]
    db.session.expire_all()
    assert case.status == CaseStatus.registered and case.due_on is None
    assert [e.code for e in case.events] == ["registered"]


def test_a_missing_later_year_is_counted_provisionally_not_refused():
    _forget_year(2027)
    # 2026-12-20 + 30 days = Tue 2027-01-19, a working day of the provisional 2027
    assert add_calendar_days(date(2026, 12, 20), 30, field="accepted_on") == date(2027, 1, 19)
    assert db.session.get(CalendarYear, 2027).status.value == "provisional"


# --- cross-region ----------------------------------------------------------------------------------------

ON = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["110105", "130602"], True),  # 北京朝阳 / 河北保定竞秀: different provinces
        (["110105", "110108"], False),  # 朝阳 / 海淀: two Beijing districts
        (["440106", "441402"], True),  # 广州天河 / 梅州梅江: cities of the GD-PAIR-GZ pairing
        (["440106", "440304"], False),  # 广州天河 / 深圳福田: same province, no pairing between them
        (["440106", "440100"], False),  # a district and its own city
        (["110105"], False),
    ],
)
def test_is_cross_region(codes, expected):
    assert service.is_cross_region(codes, ON) is expected


def test_pairing_counts_only_while_the_agreement_is_active():
    db.session.get(Agreement, "GD-PAIR-GZ").active = False
    db.session.flush()
    assert service.is_cross_region(["440106", "441402"], ON) is False


def test_pairing_counts_only_from_its_effective_date():
    # GD-PAIR-GZ takes effect on 2023-08-01.
    assert service.is_cross_region(["440106", "441402"], date(2023, 7, 31)) is False
    assert service.is_cross_region(["440106", "441402"], date(2023, 8, 1)) is True


def test_registration_derives_cross_region_from_parties_and_place(make_case, make_org):
    beijing_hebei = make_case(
        parties=[person("applicant", region_code="110105"), person("respondent", region_code="130602")]
    )
    assert beijing_hebei.cross_region is True
    two_districts = make_case(
        parties=[person("applicant", region_code="110105"), person("respondent", region_code="110108")]
    )
    assert two_districts.cross_region is False
    # Parties both in Beijing, but the dispute happened in Tianjin.
    place = make_case(parties=[person("applicant"), person("respondent")], occurred_region_code="120101")
    assert place.cross_region is True
    guangzhou = make_org(region_code="440106")
    paired = make_case(
        guangzhou,
        occurred_region_code="440106",
        parties=[person("applicant", region_code="440106"), person("respondent", region_code="441402")],
    )
    assert paired.cross_region is True
