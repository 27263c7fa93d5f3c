"""Periodic work for legal aid: flag applications past their art. 43 deadlines (listed in scheduler.JOBS)."""

from __future__ import annotations

from datetime import date, datetime

from ..core.actor import SYSTEM
from ..core.shanghai import SHANGHAI
from ..extensions import db
from ..notifications.service import notify
from .models import LegalAidApplication
from .service import overdue_applications


def _notices(application: LegalAidApplication, today: date) -> list[tuple[str, date, str]]:
    """(clock, its deadline, message) for each deadline this application has missed."""
    notices: list[tuple[str, date, str]] = []
    if application.decide_overdue(today) and application.decide_by is not None:
        notices.append(
            (
                "decide",
                application.decide_by,
                f"法律援助申请 {application.number} 已超过审查决定期限 "
                f"{application.decide_by.isoformat()}（法律援助法第四十三条：收到申请之日起七日内）",
            )
        )
    if application.assign_overdue(today) and application.assign_by is not None:
        notices.append(
            (
                "assign",
                application.assign_by,
                f"法律援助申请 {application.number} 已决定给予援助，超过指派期限 "
                f"{application.assign_by.isoformat()}（作出决定之日起三日内）",
            )
        )
    return notices


def flag_overdue_legal_aid(now: datetime) -> int:
    """Notify the holding centre and its province's coordinators of every application past ``decide_by``
    without a decision or past ``assign_by`` without a lawyer (Shanghai date of ``now``).

    Each notice carries a dedupe key naming the application, the clock and its deadline, so running the
    job again writes nothing new (and a deadline moved by a later receipt date is flagged afresh).
    An application handed to another hub's centre is that hub's to watch. Returns the number of notifications
    written."""
    today = now.astimezone(SHANGHAI).date()
    written = 0
    for application in db.session.scalars(overdue_applications(SYSTEM, today)):
        centre = application.centre
        if centre.is_remote:  # held by another hub's centre (通办 across hubs): its clocks are watched there
            continue
        for clock, deadline, message in _notices(application, today):
            key = f"legal-aid-overdue:{application.id}:{clock}:{deadline.isoformat()}"
            link = f"/legal-aid/applications/{application.id}"
            written += (
                notify(
                    kind="legal_aid_overdue",
                    organization_id=centre.id,
                    message=message,
                    link=link,
                    dedupe_key=f"{key}:centre",
                )
                is not None
            )
            province = centre.region.province_code
            if province:
                written += (
                    notify(
                        kind="legal_aid_overdue",
                        region_code=province,
                        message=f"{centre.name}：{message}",
                        link=link,
                        dedupe_key=f"{key}:region:{province}",
                    )
                    is not None
                )
    return written
