"""The overdue legal-aid job: notices to the holding centre and its province's coordinators, written once."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from mediation_hub.extensions import db
from mediation_hub.legal_aid.models import ApplicationStatus
from mediation_hub.legal_aid.tasks import flag_overdue_legal_aid
from mediation_hub.notifications.models import Notification


def notices():
    return db.session.scalars(
        sa.select(Notification).where(Notification.kind == "legal_aid_overdue").order_by(Notification.id)
    ).all()


def test_decide_by_passed_is_flagged_once(make_application):
    application, _tianjin, baoding = make_application(ApplicationStatus.accepted)
    assert application.decide_by.isoformat() == "2025-09-18"  # handed over Thu 09-11, +7 = Thu 09-18
    # 2025-09-18 15:59 UTC is 23:59 in Shanghai: still the deadline day, not overdue
    assert flag_overdue_legal_aid(datetime(2025, 9, 18, 15, 59, tzinfo=UTC)) == 0
    # 16:00 UTC is 00:00 on 09-19 in Shanghai: overdue; one notice to the centre, one to Hebei's coordinators
    assert flag_overdue_legal_aid(datetime(2025, 9, 18, 16, 0, tzinfo=UTC)) == 2
    assert flag_overdue_legal_aid(datetime(2025, 9, 20, 9, 0, tzinfo=UTC)) == 0  # dedupe: nothing new
    centre_note, region_note = notices()
    assert centre_note.organization_id == baoding.id and "2025-09-18" in centre_note.message
    assert region_note.region_code == "130000" and baoding.name in region_note.message
    assert application.number in centre_note.message
    assert application.id_number_masked not in centre_note.message


def test_assign_by_passed_is_flagged_and_decided_ones_are_not(make_application):
    granted, _t, _b = make_application(ApplicationStatus.granted)  # assign_by 2025-09-18
    make_application(ApplicationStatus.refused)  # decided: no clock left
    make_application(ApplicationStatus.assigned)  # lawyer assigned: no clock left
    assert flag_overdue_legal_aid(datetime(2025, 9, 22, 2, 0, tzinfo=UTC)) == 2
    assert all("指派期限 2025-09-18" in n.message and granted.number in n.message for n in notices())


def test_filed_at_a_non_competent_centre_has_no_clock(make_application):
    make_application(ApplicationStatus.filed)
    assert flag_overdue_legal_aid(datetime(2026, 1, 5, 2, 0, tzinfo=UTC)) == 0
