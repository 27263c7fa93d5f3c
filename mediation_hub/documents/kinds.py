"""Which documents exist, when each is available, how it is numbered and who may see full numbers in it.

One table per owner (a case, a legal-aid application) in the order of the 卷宗's 目录 (人民调解卷宗 files
the papers in the order the case produced them: application, registration, notice, records, agreement,
follow-up, then the 司法确认 application). ``available`` answers None when the document can be generated, or
the reason (a ``Coded`` message) why not yet. DESIGN.md, "Documents", is the source of every row."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from ..cases.models import Case, CaseStatus, Outcome
from ..core.messages import Coded, coded

if TYPE_CHECKING:
    from .blocks import Doc
    from .common import Context

CASE, LEGAL_AID = "case", "legal_aid"
ACCEPTED_STATES = (CaseStatus.accepted, CaseStatus.in_mediation, CaseStatus.concluded)
MEDIATION_SERIES = "调"


@dataclass(frozen=True)
class Kind:
    owner: str
    kind: str
    title: object  # lazy Chinese title (the paper's own title is the Chinese text the builder gives)
    builder: str  # "module.function" in this package: documents.mediation / documents.legal_aid
    available: Callable[[Any, date], Coded | None]  # (the owner's record: a Case or a LegalAidApplication, today)
    series: str | None = None  # numbered in this series of the organisation (None: no number)
    full_numbers: bool = False  # shows full ID numbers to the handling organisation (audited)
    per: str | None = None  # "session" | "follow_up": one document per item

    def build(self, record: Any, ctx: Context) -> Doc:
        """The document built from ``record`` (the builder module is imported when first used)."""
        module, function = self.builder.rsplit(".", 1)
        return getattr(importlib.import_module(f"{__package__}.{module}"), function)(record, ctx)


def _written_agreement(case: Case) -> bool:
    return case.outcome == Outcome.agreement and case.agreement_form != "oral"


def _registration(case: Case, today: date):
    if case.status in ACCEPTED_STATES or case.status == CaseStatus.declined:
        return None
    return coded("document_needs_decision", "案件受理或不予受理后才能制作受理登记表")


def _rights_notice(case: Case, today: date):
    if case.status in ACCEPTED_STATES:
        return None
    if case.status == CaseStatus.declined:
        return coded("document_case_declined", "案件不予受理，无须告知当事人权利义务")
    return coded("document_needs_acceptance", "案件受理后才能制作权利义务告知书")


def _session_record(case: Case, today: date):
    return None if case.sessions else coded("document_needs_session", "尚未记录调解过程")


def _agreement(case: Case, today: date):
    if _written_agreement(case):
        return None
    if case.outcome == Outcome.agreement:
        return coded("document_agreement_oral", "本案为口头协议，请制作口头协议登记表")
    return coded("document_needs_agreement", "案件以达成调解协议办结后才能制作协议书")


def _oral_agreement(case: Case, today: date):
    if case.outcome == Outcome.agreement and case.agreement_form == "oral":
        return None
    if case.outcome == Outcome.agreement:
        return coded("document_agreement_written", "本案为书面协议，请制作人民调解协议书")
    return coded("document_needs_oral_agreement", "案件以口头协议办结后才能制作口头协议登记表")


def _follow_up(case: Case, today: date):
    return None if case.follow_ups else coded("document_needs_follow_up", "尚未记录回访")


def _confirmation_application(case: Case, today: date):
    if not _written_agreement(case):
        return coded("document_needs_written_agreement", "达成书面调解协议后才能申请司法确认")
    deadline = case.confirmation_deadline
    if deadline is not None and today > deadline:
        return coded(
            "document_confirmation_window_closed",
            "已超过申请司法确认的期限（%(deadline)s，调解协议生效之日起30日内）",
            deadline=deadline.isoformat(),
        )
    return None


def _file(case: Case, today: date):
    if case.status in (CaseStatus.concluded, CaseStatus.declined):
        return None
    return coded("document_needs_conclusion", "案件办结或不予受理后才能立卷归档")


def _always(record, today: date):
    return None


def _decided(application, today: date):
    if application.granted is not None:
        return None
    return coded("document_needs_decision_legal_aid", "作出是否给予法律援助的决定后才能制作决定书")


def _assigned(application, today: date):
    if application.lawyer_name:
        return None
    return coded("document_needs_assignment", "指派律师后才能制作指派通知书")


def _supplement(application, today: date):
    if application.supplement_requested_on is not None:
        return None
    return coded("document_needs_supplement_request", "尚未通知申请人补充材料")


CASE_KINDS: dict[str, Kind] = {
    k.kind: k
    for k in (
        Kind(CASE, "application", _l("人民调解申请书"), "mediation.build_application", _always),
        Kind(
            CASE,
            "registration",
            _l("人民调解受理登记表"),
            "mediation.build_registration",
            _registration,
            MEDIATION_SERIES,
        ),
        Kind(CASE, "rights_notice", _l("当事人权利义务告知书"), "mediation.build_rights_notice", _rights_notice),
        Kind(
            CASE, "session_record", _l("人民调解记录"), "mediation.build_session_record", _session_record, per="session"
        ),
        Kind(
            CASE,
            "agreement",
            _l("人民调解协议书"),
            "mediation.build_agreement",
            _agreement,
            MEDIATION_SERIES,
            full_numbers=True,
        ),
        Kind(
            CASE,
            "oral_agreement",
            _l("人民调解口头协议登记表"),
            "mediation.build_oral_agreement",
            _oral_agreement,
            MEDIATION_SERIES,
        ),
        Kind(CASE, "follow_up", _l("人民调解回访记录"), "mediation.build_follow_up", _follow_up, per="follow_up"),
        Kind(
            CASE,
            "confirmation_application",
            _l("司法确认申请书"),
            "mediation.build_confirmation_application",
            _confirmation_application,
            MEDIATION_SERIES,
            full_numbers=True,
        ),
        Kind(CASE, "file", _l("人民调解卷宗"), "file.build_file", _file, MEDIATION_SERIES, full_numbers=True),
    )
}

LEGAL_AID_KINDS: dict[str, Kind] = {
    k.kind: k
    for k in (
        Kind(LEGAL_AID, "application_form", _l("法律援助申请表"), "legal_aid.build_application_form", _always),
        Kind(
            LEGAL_AID,
            "supplement_notice",
            _l("补充材料通知书"),
            "legal_aid.build_supplement_notice",
            _supplement,
            "法援补",
        ),
        Kind(LEGAL_AID, "decision", _l("法律援助决定书"), "legal_aid.build_decision", _decided, "法援决"),
        Kind(
            LEGAL_AID, "assignment_notice", _l("指派通知书"), "legal_aid.build_assignment_notice", _assigned, "法援指"
        ),
    )
}

KINDS = {CASE: CASE_KINDS, LEGAL_AID: LEGAL_AID_KINDS}
