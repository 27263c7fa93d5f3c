"""Legal-aid operations: filing, the 通办 hand-over to the competent centre, and the art. 43 clocks.

Competence (Legal Aid Law art. 38): an application belongs to the legal-aid centre of the place where the
matter is (where the case-handling organ sits). A centre covers the matter when the matter's region lies in
the centre's region subtree (a centre sitting in a custom grouping such as 雄安新区 covers its members'
subtrees). Of the active centres covering the matter, the most specific ones are competent: a county centre
before a custom grouping of counties, that before a prefecture centre, that before a province centre. If
several centres sit in that same region, each of them is competent; ``competent_centre`` proposes the one
registered first.

Scope: a legal-aid officer sees what their centre holds, filed or ever passed on or received; a coordinator
sees applications held or filed by centres in their region (read-only); admins and the system see all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..agreements.models import Agreement, AgreementKind, AgreementScope
from ..agreements.service import agreements_covering
from ..auth.people import load_people
from ..core.actor import Actor, Role
from ..core.business_dates import check_business_date
from ..core.calendar import calendar_deadline
from ..core.i18n import N_
from ..core.messages import coded
from ..core.pii import CLEARED_NUMBERS, ERASED_NAME
from ..core.shanghai import today_shanghai
from ..errors import NotFound, StateConflict, collect, raise_if
from ..extensions import db
from ..reference.lists import name_of
from ..regions.models import Region, RegionLevel, RegionMember
from ..regions.service import subtree_condition
from ..registry.models import Organization, OrgKind
from ..registry.service import validate_personal_numbers
from .deadlines import decision_deadline, supplement_pause_days
from .events import record_event
from .models import OPEN_FOR_DECISION, Hardship, LegalAidApplication, LegalAidHandover
from .models import ApplicationStatus as S
from .policy import POLICY
from .reference import ASSIGN_WITHIN_DAYS, EXEMPT_GROUPS, GENDER_LABELS, MATTER_CATEGORIES, STATUS_LABELS

# The one table of lifecycle transitions: action -> states it may start from.
TRANSITIONS: dict[str, tuple[S, ...]] = {
    "transfer": (S.filed, S.transferred),
    "accept": (S.filed, S.transferred),
    "decide": (S.accepted,),
    "assign": (S.granted,),
    "close": (S.assigned,),
    # further materials: asked for once by the centre holding it, before the decision (art. 43 para. 2)
    "request_supplement": OPEN_FOR_DECISION,
    "receive_supplement": OPEN_FOR_DECISION,
}
ACTION_LABELS = {
    "transfer": N_("转交"),
    "accept": N_("受理"),
    "decide": N_("作出决定"),
    "assign": N_("指派律师"),
    "close": N_("结案"),
    "request_supplement": N_("通知补充材料"),
    "receive_supplement": N_("登记收到补充材料"),
}
# Nothing left for the centre to do by a deadline: listed after the waiting work, apart from it.
HANDLED = (S.refused, S.assigned, S.closed)


# --- scope -----------------------------------------------------------------------------------------


def _scope(actor: Actor) -> sa.ColumnElement[bool]:
    A = LegalAidApplication
    if actor.is_admin or actor.is_system:
        return sa.true()
    if actor.role == Role.legal_aid_officer:
        org = actor.organization_id
        touched = sa.select(LegalAidHandover.application_id).where(
            sa.or_(LegalAidHandover.from_centre_id == org, LegalAidHandover.to_centre_id == org)
        )
        return sa.or_(A.centre_id == org, A.filed_centre_id == org, A.id.in_(touched))
    if actor.role == Role.coordinator:
        if actor.region_code is None:
            return sa.true()
        in_region = sa.select(Organization.id).where(subtree_condition(Organization.region_code, actor.region_code))
        return sa.or_(A.centre_id.in_(in_region), A.filed_centre_id.in_(in_region))
    return sa.false()


def applications_visible_to(actor: Actor) -> sa.Select[tuple[LegalAidApplication]]:
    """Applications the actor may know about (a query; callers add filters and order)."""
    return sa.select(LegalAidApplication).where(_scope(actor))


# What the application's detail shows beside its own columns, loaded with it in one statement: both centres (the
# event a transition records and the 通办 rules read them), the hand-overs and the events (a few rows each: joined,
# their product is a few dozen rows at most, instead of a query per list).
DETAIL_LOADING = (
    joinedload(LegalAidApplication.centre),
    joinedload(LegalAidApplication.filed_centre),
    joinedload(LegalAidApplication.handovers),
    joinedload(LegalAidApplication.events),
)


def get_application(
    actor: Actor, application_id: int, *, detail: bool = False, naming: Iterable[int | None] = ()
) -> LegalAidApplication:
    """The application if the actor may see it, else NotFound. ``detail``: loaded with what its detail shows
    (``DETAIL_LOADING``), then the people named in it and the accounts ``naming`` gives (a transition's actor, whom
    the event it adds names) in one statement (``auth.people.load_people``), so the detail reads nothing more."""
    stmt = applications_visible_to(actor).where(LegalAidApplication.id == application_id)
    if not detail:
        application = db.session.scalar(stmt)
    else:
        application = db.session.scalars(stmt.options(*DETAIL_LOADING)).unique().first()
    if application is None:
        raise NotFound("legal-aid application")
    if detail:
        load_people(
            [
                *naming,
                *(handover.by_user_id for handover in application.handovers),
                *(event.actor_user_id for event in application.events),
            ]
        )
    return application


def _loaded(application: LegalAidApplication, key: str) -> bool:
    return key not in sa.inspect(application).unloaded


def list_applications(
    actor: Actor, *, status: S | None = None, centre_id: int | None = None, overdue_on: date | None = None
) -> sa.Select[tuple[LegalAidApplication]]:
    """Visible applications, optionally by status, holding centre, or overdue on a day; newest first."""
    stmt = applications_visible_to(actor)
    if status is not None:
        stmt = stmt.where(LegalAidApplication.status == status)
    if centre_id is not None:
        stmt = stmt.where(LegalAidApplication.centre_id == centre_id)
    if overdue_on is not None:
        stmt = stmt.where(_overdue_condition(overdue_on))
    return stmt.order_by(LegalAidApplication.id.desc())


def queue_for(actor: Actor) -> sa.Select[tuple[LegalAidApplication]]:
    """The work queue: applications held by the actor's centre (all visible ones for admins and
    coordinators), incoming transfers first, then by the clock that runs next, finished ones last."""
    A = LegalAidApplication
    stmt = applications_visible_to(actor)
    if actor.role == Role.legal_aid_officer:
        stmt = stmt.where(A.centre_id == actor.organization_id)
    finished = A.status.in_(HANDLED)
    clock = sa.case((A.status == S.granted, A.assign_by), else_=A.decide_by)
    return stmt.order_by(sa.case((A.status == S.transferred, 0), (finished, 2), else_=1), clock.is_(None), clock, A.id)


def passed_on_by(actor: Actor) -> sa.Select[tuple[LegalAidApplication]]:
    """Applications the actor's centre handed over to another centre (read-only for it now)."""
    A = LegalAidApplication
    if actor.role != Role.legal_aid_officer:
        return sa.select(A).where(sa.false())
    sent = sa.select(LegalAidHandover.application_id).where(LegalAidHandover.from_centre_id == actor.organization_id)
    return sa.select(A).where(A.id.in_(sent), A.centre_id != actor.organization_id).order_by(A.id.desc())


def _overdue_condition(today: date) -> sa.ColumnElement[bool]:
    A = LegalAidApplication
    # while the applicant supplements materials the review clock stands still (see deadlines.py)
    awaiting = sa.and_(A.supplement_requested_on.is_not(None), A.supplement_received_on.is_(None))
    return sa.or_(
        sa.and_(A.status.in_(OPEN_FOR_DECISION), A.decide_by.is_not(None), A.decide_by < today, sa.not_(awaiting)),
        sa.and_(A.status == S.granted, A.assign_by < today),
    )


def overdue_applications(actor: Actor, today: date) -> sa.Select[tuple[LegalAidApplication]]:
    """Visible applications past ``decide_by`` without a decision, or past ``assign_by`` without a lawyer."""
    return applications_visible_to(actor).where(_overdue_condition(today)).order_by(LegalAidApplication.id)


# --- competence and 通办 ----------------------------------------------------------------------------


def _covering_depths(matter_region_code: str) -> dict[str, float]:
    """Region codes whose centres cover the matter, with how specific each is (larger = closer)."""
    region = db.session.get(Region, matter_region_code)
    if region is None:
        return {}
    ancestors = region.path.strip("/").split("/")
    depths: dict[str, float] = {code: float(i) for i, code in enumerate(ancestors)}
    groups = db.session.execute(
        sa.select(RegionMember.group_code, RegionMember.member_code).where(RegionMember.member_code.in_(ancestors))
    )
    for group, member in groups:
        # A grouping of several counties is less specific than one of its counties, more than the prefecture.
        depths[group] = max(depths.get(group, -1.0), depths[member] - 0.5)
    return depths


def competent_centres(matter_region_code: str) -> list[Organization]:
    """The active legal-aid centres competent for a matter in this region (art. 38; rule in the module doc)."""
    depths = _covering_depths(matter_region_code)
    if not depths:
        return []
    centres = db.session.scalars(
        sa.select(Organization)
        .where(
            Organization.kind == OrgKind.legal_aid_centre,
            Organization.active,
            Organization.region_code.in_(list(depths)),
        )
        .order_by(Organization.id)
    ).all()
    if not centres:
        return []
    best = max(depths[c.region_code] for c in centres)
    return [c for c in centres if depths[c.region_code] == best]


def competent_centre(matter_region_code: str) -> Organization | None:
    """The legal-aid centre an application about a matter in this region should go to (None if none)."""
    centres = competent_centres(matter_region_code)
    return centres[0] if centres else None


def is_competent(centre_id: int, matter_region_code: str) -> bool:
    return any(c.id == centre_id for c in competent_centres(matter_region_code))


def _tongban(agreements: list[Agreement]) -> list[Agreement]:
    # Only a 通办 agreement carries legal-aid hand-overs (a city pairing does not make one centre competent
    # to pass applications to another).
    return [a for a in agreements if a.kind == AgreementKind.tongban]


def tongban_agreements_in_force(on: date) -> list[Agreement]:
    """Active legal-aid 通办 agreements in force on a day."""
    rows = db.session.scalars(
        sa.select(Agreement)
        .where(
            Agreement.kind == AgreementKind.tongban,
            Agreement.active,
            Agreement.scope.in_((AgreementScope.legal_aid, AgreementScope.both)),
        )
        .order_by(Agreement.code)
    ).all()
    return [a for a in rows if a.in_force_on(on)]


def covering_agreement(region_codes: dict[str, str], on: date) -> tuple[Agreement | None, list[str]]:
    """The 通办 agreement in force on ``on`` covering every region given (label -> code); else None and the
    labels of the regions no such agreement covers (all of them covered one by one: none covers them together)."""
    covering = _tongban(agreements_covering(list(region_codes.values()), AgreementScope.legal_aid, on))
    if covering:
        return covering[0], []
    if not tongban_agreements_in_force(on):
        return None, [gettext("无有效的法律援助通办协议")]
    missing = [
        label
        for label, code in region_codes.items()
        if not _tongban(agreements_covering([code], AgreementScope.legal_aid, on))
    ]
    return None, missing or [gettext("没有一项协议同时覆盖上述各地")]


# --- helpers -----------------------------------------------------------------------------------------


def _require_state(application: LegalAidApplication, action: str) -> None:
    allowed = TRANSITIONS[action]
    if application.status not in allowed:
        names = "、".join(gettext(STATUS_LABELS[s.value]) for s in allowed)
        raise StateConflict(
            coded(
                "action_not_allowed",
                "申请当前为“%(status)s”，不能%(action)s（仅限%(allowed)s状态）",
                status=gettext(STATUS_LABELS[application.status.value]),
                action=gettext(ACTION_LABELS[action]),
                allowed=names,
            )
        )


def _load(actor: Actor, application_id: int, action: str, detail: bool) -> LegalAidApplication:
    """The application for a transition: visible (404), the actor's to handle (403), in a state the action starts
    from (409). ``detail``: loaded with what its detail shows, for a caller answering with it (the API): the
    transition keeps it whole (the rows it adds join the loaded lists), so the answer reads nothing after the write."""
    application = get_application(actor, application_id, detail=detail, naming=[actor.user_id])
    POLICY.require(actor, "handle", application)
    _require_state(application, action)
    return application


def _step_date(
    value: date | None,
    application: LegalAidApplication | None,
    field: str,
    errors: dict[str, list[str]],
    *,
    not_before: date | None = None,
) -> date:
    """A transition's date: today by default, never in the future, never before 1990 nor the previous step."""
    today = today_shanghai()
    day = value or today
    if day > today:
        collect(errors, field, coded("date_in_future", "日期不能晚于今天"))
    check_business_date(day, field, errors)
    floor = not_before or (application.last_step_on if application is not None else None)
    if floor is not None and day < floor:
        collect(errors, field, coded("before_previous_step", "日期不能早于上一步骤 %(day)s", day=floor.isoformat()))
    return day


def _save(application: LegalAidApplication) -> None:
    """Flush; a concurrent change to the same application (version mismatch) becomes a 409."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise StateConflict(coded("concurrent_change", "该申请已被他人修改，请刷新后重试")) from exc


def _legal_aid_centre(centre_id: int | None) -> Organization | None:
    centre = db.session.get(Organization, centre_id) if centre_id is not None else None
    if centre is None or centre.kind != OrgKind.legal_aid_centre or not centre.active:
        return None
    return centre


# --- filing ------------------------------------------------------------------------------------------

# The applicant's optional particulars (for the 申请表): free-text field -> longest text the column holds.
PARTICULAR_LENGTHS = {"address": 200, "occupation": 60}


def _check_particulars(applicant: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """Normalised in place (blank is None): gender male/female; 民族 from the reference list "ethnicities", stored
    as its Chinese name (its code is taken too); address and occupation within their lengths."""
    for field in ("gender", "ethnicity", *PARTICULAR_LENGTHS):
        value = applicant.get(field)
        applicant[field] = (value.strip() or None) if isinstance(value, str) else value
    if applicant["gender"] is not None and applicant["gender"] not in GENDER_LABELS:
        collect(errors, "applicant.gender", coded("unknown_gender", "性别须为 男 或 女"))
    if applicant["ethnicity"] is not None:
        name = name_of("ethnicities", str(applicant["ethnicity"]))
        if name is None:
            collect(errors, "applicant.ethnicity", coded("unknown_ethnicity", "未知的民族，请从民族列表中选择"))
        applicant["ethnicity"] = name
    for field, longest in PARTICULAR_LENGTHS.items():
        if applicant[field] is not None and len(applicant[field]) > longest:
            collect(errors, f"applicant.{field}", coded("too_long", "不能超过 %(max)s 个字符", max=longest))


def _check_application(actor: Actor, data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    applicant = dict(data.get("applicant") or {})
    if not (applicant.get("name") or "").strip():
        collect(errors, "applicant.name", coded("name_required", "请填写申请人姓名"))
    if not applicant.get("id_number"):
        collect(errors, "applicant.id_number", coded("id_number_required", "请填写申请人身份证号码"))
    validate_personal_numbers(applicant, errors, prefix="applicant.")
    if applicant.get("region_code") and db.session.get(Region, applicant["region_code"]) is None:
        collect(errors, "applicant.region_code", coded("unknown_region", "未知的行政区划代码"))
    _check_particulars(applicant, errors)
    matter_region = db.session.get(Region, data.get("matter_region_code") or "")
    if matter_region is None:
        collect(errors, "matter_region_code", coded("unknown_region", "未知的行政区划代码"))
    elif matter_region.level == RegionLevel.custom:
        collect(errors, "matter_region_code", coded("custom_region_not_allowed", "请选择具体的行政区划，而非区域分组"))
    if data.get("matter_category") not in MATTER_CATEGORIES:
        collect(errors, "matter_category", coded("unknown_matter_category", "未知的援助事项类别"))
    hardship: Hardship | None
    try:
        hardship = Hardship(data.get("hardship") or "")  # missing or blank: not a hardship status either
    except ValueError:
        collect(errors, "hardship", coded("unknown_hardship", "经济困难状况须为告知承诺、证明材料或免予核查"))
        hardship = None
    group = data.get("exempt_group") or None
    if hardship == Hardship.exempt and group not in EXEMPT_GROUPS:
        collect(errors, "exempt_group", coded("exempt_group_required", "免予核查经济困难状况须选择法定人群"))
    elif hardship != Hardship.exempt and group is not None:
        collect(errors, "exempt_group", coded("exempt_group_only_when_exempt", "仅在免予核查时填写"))
    if not (data.get("summary") or "").strip():
        collect(errors, "summary", coded("summary_required", "请填写案情摘要"))
    return {"applicant": applicant, "hardship": hardship, "exempt_group": group}


def file_application(actor: Actor, data: dict[str, Any]) -> LegalAidApplication:
    """Record an application received at a legal-aid centre (the actor's own centre for an officer).

    When the filing centre is itself competent the application is received there and its 7-day clock
    starts; otherwise it waits to be handed over to the competent centre under 通办."""
    POLICY.require(actor, "file")
    errors: dict[str, list[str]] = {}
    centre_id = data.get("centre_id") or (actor.organization_id if actor.role == Role.legal_aid_officer else None)
    centre = _legal_aid_centre(centre_id)
    if centre is None:
        collect(errors, "centre_id", coded("not_legal_aid_centre", "受理机构须为法律援助中心"))
    elif not POLICY.allows(actor, "file_at", centre):
        collect(errors, "centre_id", POLICY.message("file_at"))
    checked = _check_application(actor, data, errors)
    filed_on = _step_date(data.get("received_on"), None, "received_on", errors)
    raise_if(errors)
    assert centre is not None, "raise_if refused a missing centre"

    applicant = checked["applicant"]
    application = LegalAidApplication(
        number=f"pending-{uuid.uuid4().hex}",
        status=S.filed,
        centre=centre,  # the relationships, not the keys: the answer shows the application with its centres loaded
        filed_centre=centre,
        applicant_name=applicant["name"].strip(),
        applicant_region_code=applicant.get("region_code") or None,
        applicant_gender=applicant["gender"],
        applicant_ethnicity=applicant["ethnicity"],
        applicant_address=applicant["address"],
        applicant_occupation=applicant["occupation"],
        matter_category=data["matter_category"],
        matter_region_code=data["matter_region_code"],
        hardship=checked["hardship"],
        exempt_group=checked["exempt_group"],
        summary=data["summary"].strip(),
        filed_on=filed_on,
        last_step_on=filed_on,
        filed_by_id=actor.user_id,
    )
    application.set_id_number(applicant["id_number"])
    application.set_phone(applicant.get("phone"))
    competent_here = competent_centres(application.matter_region_code)  # before the write: nothing read after it
    competent = any(c.id == centre.id for c in competent_here)
    if competent:
        application.received_on = filed_on
        application.decide_by, application.decide_by_provisional = decision_deadline(application)
    db.session.add(application)
    db.session.flush()
    application.number = f"LA{filed_on.year}-{application.id:06d}"
    _save(application)
    suggested = competent_here[0] if competent_here else None  # what competent_centre() gives
    event = record_event(
        application,
        "filed",
        actor,
        filed_on,
        {
            "hardship": application.hardship.value,
            "exempt_group": application.exempt_group,
            "competent": competent,
            "competent_centre_id": suggested.id if suggested else None,
        },
    )
    # a new application: no hand-over, the one event above (the answer shows them without reading them back)
    set_committed_value(application, "handovers", [])
    set_committed_value(application, "events", [event])
    return application


# --- transitions ---------------------------------------------------------------------------------------


def _transfer_rules(
    application: LegalAidApplication, target: Organization | None, on: date, errors: dict[str, list[str]]
) -> Agreement | None:
    field = "to_centre_id"
    if target is None:
        collect(errors, field, coded("target_not_legal_aid_centre", "目标机构不是有效的法律援助中心"))
        return None
    if target.id == application.centre_id:
        collect(errors, field, coded("same_centre", "申请已在该中心"))
    if not is_competent(target.id, application.matter_region_code):
        proposed = competent_centre(application.matter_region_code)
        hint = gettext("；有管辖权的是 %(centre)s", centre=proposed.name) if proposed else ""
        collect(
            errors,
            field,
            coded("target_not_competent", "目标中心对事项发生地没有管辖权（法律援助法第三十八条）%(hint)s", hint=hint),
        )
    if _loaded(application, "handovers"):
        passed_on = {handover.from_centre_id for handover in application.handovers}
    else:
        passed_on = set(
            db.session.scalars(
                sa.select(LegalAidHandover.from_centre_id).where(LegalAidHandover.application_id == application.id)
            )
        )
    if target.id in passed_on:
        collect(errors, field, coded("no_send_back", "通办申请不得退回已转出该申请的中心"))
    regions = {
        gettext("受理申请的中心所在地"): db.session.get_one(Organization, application.filed_centre_id).region_code
    }
    if application.centre_id != application.filed_centre_id:
        regions[gettext("当前持有中心所在地")] = db.session.get_one(Organization, application.centre_id).region_code
    regions |= {gettext("目标中心所在地"): target.region_code, gettext("事项发生地"): application.matter_region_code}
    agreement, missing = covering_agreement(regions, on)
    if agreement is None:
        collect(
            errors,
            field,
            coded("not_covered_by_tongban", "法律援助通办协议未覆盖：%(places)s", places="、".join(missing)),
        )
    return agreement


def transfer_application(
    actor: Actor,
    application_id: int,
    *,
    to_centre_id: int,
    transferred_on: date | None = None,
    detail: bool = False,
) -> LegalAidApplication:
    """Hand an application over to the competent centre under a 通办 agreement (→ transferred).

    The receiving centre receives it that day, so its 7-day clock starts; the hardship declaration (or
    proof, or exempt group) travels with the application. Never back to a centre that passed it on."""
    application = _load(actor, application_id, "transfer", detail)
    errors: dict[str, list[str]] = {}
    on = _step_date(transferred_on, application, "transferred_on", errors)
    target = _legal_aid_centre(to_centre_id)
    agreement = _transfer_rules(application, target, on, errors)
    raise_if(errors)
    assert target is not None and agreement is not None, "raise_if refused a missing centre or agreement"

    decide_by = decision_deadline(application, on, field="transferred_on")
    from_centre_id = application.centre_id
    handover = LegalAidHandover(
        application_id=application.id,
        from_centre_id=from_centre_id,
        to_centre_id=target.id,
        agreement_code=agreement.code,
        on_date=on,
        by_user_id=actor.user_id,
        by_name=actor.username,
    )
    db.session.add(handover)
    application.centre, application.status = target, S.transferred  # the relationship: centre_id follows on flush
    application.received_on, application.last_step_on = on, on
    application.decide_by, application.decide_by_provisional = decide_by
    _save(application)
    if _loaded(application, "handovers"):  # else read when asked, the one just flushed with them
        set_committed_value(application, "handovers", [*application.handovers, handover])
    record_event(
        application,
        "transferred",
        actor,
        on,
        {
            "from_centre_id": from_centre_id,
            "to_centre_id": target.id,
            "agreement_code": agreement.code,
            "hardship": application.hardship.value,
            "exempt_group": application.exempt_group,
            "decide_by": application.decide_by.isoformat(),
        },
    )
    return application


def accept_application(
    actor: Actor,
    application_id: int,
    *,
    received_on: date | None = None,
    accepted_on: date | None = None,
    detail: bool = False,
) -> LegalAidApplication:
    """Accept an application at the competent centre (→ accepted); ``decide_by`` = 7 days after receipt.

    ``received_on`` corrects the day the centre received it (default: the day it was filed there or the day
    it was handed over); it may not precede that day nor follow the acceptance."""
    application = _load(actor, application_id, "accept", detail)
    errors: dict[str, list[str]] = {}
    if not is_competent(application.centre_id, application.matter_region_code):
        proposed = competent_centre(application.matter_region_code)
        hint = gettext("，请转交 %(centre)s", centre=proposed.name) if proposed else ""
        collect(
            errors,
            "centre_id",
            coded("not_competent", "本中心对该事项没有管辖权（法律援助法第三十八条）%(hint)s", hint=hint),
        )
    received = _step_date(
        received_on or application.received_on or application.last_step_on, application, "received_on", errors
    )
    accepted = _step_date(accepted_on, application, "accepted_on", errors, not_before=received)
    raise_if(errors)
    decide_by = decision_deadline(application, received)
    application.received_on, application.accepted_on = received, accepted
    application.decide_by, application.decide_by_provisional = decide_by
    application.status, application.last_step_on = S.accepted, accepted
    _save(application)
    record_event(
        application,
        "accepted",
        actor,
        accepted,
        {"received_on": received.isoformat(), "decide_by": application.decide_by.isoformat()},
    )
    return application


def decide_application(
    actor: Actor,
    application_id: int,
    *,
    granted: bool,
    reason: str | None = None,
    decided_on: date | None = None,
    detail: bool = False,
) -> LegalAidApplication:
    """Grant (→ granted, lawyer to be assigned within 3 days) or refuse in writing with reasons (→ refused)."""
    application = _load(actor, application_id, "decide", detail)
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip() or None
    if not granted and reason is None:
        collect(errors, "reason", coded("reason_required", "不予法律援助须书面说明理由"))
    decided = _step_date(decided_on, application, "decided_on", errors)
    raise_if(errors)
    assign_by = calendar_deadline(decided, ASSIGN_WITHIN_DAYS, field="decided_on") if granted else None
    application.granted, application.decided_on, application.last_step_on = granted, decided, decided
    if assign_by is not None:  # granted
        application.status = S.granted
        application.assign_by, application.assign_by_provisional = assign_by
    else:
        application.status, application.refusal_reason = S.refused, reason
    _save(application)
    assert application.decide_by is not None, "an accepted application's clock runs (received_has_clock)"
    data = {"on_time": decided <= application.decide_by, "reason": reason}
    if assign_by is not None:
        data["assign_by"] = assign_by.day.isoformat()
    record_event(application, "granted" if granted else "refused", actor, decided, data)
    return application


def assign_lawyer(
    actor: Actor, application_id: int, *, lawyer_name: str, assigned_on: date | None = None, detail: bool = False
) -> LegalAidApplication:
    """Record the lawyer assigned to a granted application (→ assigned)."""
    application = _load(actor, application_id, "assign", detail)
    errors: dict[str, list[str]] = {}
    name = (lawyer_name or "").strip()
    if not name:
        collect(errors, "lawyer_name", coded("lawyer_name_required", "请填写指派的律师"))
    assigned = _step_date(assigned_on, application, "assigned_on", errors)
    raise_if(errors)
    assert application.assign_by is not None, "a granted application's clock runs (granted_has_clock)"
    application.lawyer_name, application.assigned_on = name, assigned
    application.status, application.last_step_on = S.assigned, assigned
    _save(application)
    record_event(
        application,
        "lawyer_assigned",
        actor,
        assigned,
        {"lawyer_name": name, "on_time": assigned <= application.assign_by},
    )
    return application


def close_application(
    actor: Actor,
    application_id: int,
    *,
    closed_on: date | None = None,
    note: str | None = None,
    detail: bool = False,
) -> LegalAidApplication:
    """Close an assigned application once the legal-aid matter is finished (→ closed)."""
    application = _load(actor, application_id, "close", detail)
    errors: dict[str, list[str]] = {}
    closed = _step_date(closed_on, application, "closed_on", errors)
    raise_if(errors)
    application.closed_on, application.status, application.last_step_on = closed, S.closed, closed
    _save(application)
    record_event(application, "closed", actor, closed, {"note": (note or "").strip() or None})
    return application


# --- further materials (补充材料) ---------------------------------------------------------------------------


def _supplement_items(items: str | list[str] | None) -> list[str]:
    lines = items.splitlines() if isinstance(items, str) else list(items or [])
    return [line.strip() for line in lines if line and line.strip()]


def request_supplement(
    actor: Actor,
    application_id: int,
    *,
    items: str | list[str] | None,
    requested_on: date | None = None,
    due_on: date | None = None,
    detail: bool = False,
) -> LegalAidApplication:
    """Tell the applicant, once, which materials to supplement or what to explain (Legal Aid Law art. 43 para. 2).

    ``items`` are the materials or points, one per line; ``due_on`` the day the applicant is asked to reply by
    (optional). The review clock stands still from the request until the materials arrive
    (``record_supplement_received``)."""
    application = _load(actor, application_id, "request_supplement", detail)
    if application.supplement_requested_on is not None:
        raise StateConflict(
            coded(
                "supplement_already_requested",
                "已于 %(day)s 一次性告知申请人需要补充的材料，不能再次通知（法律援助法第四十三条第二款）",
                day=application.supplement_requested_on.isoformat(),
            )
        )
    errors: dict[str, list[str]] = {}
    lines = _supplement_items(items)
    if not lines:
        collect(errors, "items", coded("supplement_items_required", "请逐项列明需要补充的材料或需要说明的事项"))
    requested = _step_date(requested_on, application, "requested_on", errors)
    if due_on is not None:
        check_business_date(due_on, "due_on", errors)
        if due_on < requested:
            collect(errors, "due_on", coded("due_before_request", "答复期限不能早于通知日期"))
    raise_if(errors)
    application.supplement_items, application.supplement_requested_on = "\n".join(lines), requested
    application.supplement_due_on = due_on
    _save(application)
    record_event(
        application,
        "supplement_requested",
        actor,
        requested,
        {"items": len(lines), "due_on": due_on.isoformat() if due_on else None},
    )
    return application


def record_supplement_received(
    actor: Actor, application_id: int, *, received_on: date | None = None, detail: bool = False
) -> LegalAidApplication:
    """Record the day the requested materials or explanation arrived (once, after the request).

    The days from the request to this day do not count toward the review period, so ``decide_by`` moves later by
    them (counted in ``deadlines.decision_deadline``), never earlier. Before the competent centre received the
    application there is no clock yet: the day is only recorded."""
    application = _load(actor, application_id, "receive_supplement", detail)
    if application.supplement_requested_on is None:
        raise StateConflict(coded("supplement_not_requested", "尚未通知申请人补充材料，不能登记收到补充材料"))
    if application.supplement_received_on is not None:
        raise StateConflict(
            coded(
                "supplement_already_received",
                "已于 %(day)s 登记收到补充材料",
                day=application.supplement_received_on.isoformat(),
            )
        )
    errors: dict[str, list[str]] = {}
    received = _step_date(
        received_on, application, "received_on", errors, not_before=application.supplement_requested_on
    )
    raise_if(errors)
    application.supplement_received_on = received
    previous = application.decide_by
    if previous is not None:
        with db.session.no_autoflush:  # one UPDATE below, not one before the calendar is read and one after
            fresh = decision_deadline(application)
        if fresh.day > previous:
            application.decide_by, application.decide_by_provisional = fresh
    _save(application)
    record_event(
        application,
        "supplement_received",
        actor,
        received,
        {
            "requested_on": application.supplement_requested_on.isoformat(),
            "paused_days": supplement_pause_days(application),
            "previous": previous.isoformat() if previous else None,
            "decide_by": application.decide_by.isoformat() if application.decide_by else None,
        },
    )
    return application


def _supplement_step_open(action: str, application: LegalAidApplication) -> bool:
    """Beyond the state: a request only once, a receipt only after the request and only once."""
    if action == "request_supplement":
        return application.supplement_requested_on is None
    if action == "receive_supplement":
        return application.awaiting_supplement
    return True


def allowed_actions(actor: Actor, application: LegalAidApplication) -> list[str]:
    """The transitions the actor may start now (for pages: which buttons to show)."""
    if not POLICY.allows(actor, "handle", application):
        return []
    return [
        action
        for action, states in TRANSITIONS.items()
        if application.status in states and _supplement_step_open(action, application)
    ]


def transfer_targets(application: LegalAidApplication) -> list[Organization]:
    """Centres worth offering for a hand-over: the competent ones first, then the other active centres in
    the regions of the 通办 agreements in force (the service still checks every rule)."""
    competent = competent_centres(application.matter_region_code)
    members = {code for a in tongban_agreements_in_force(today_shanghai()) for code in a.member_codes}
    others: Sequence[Organization] = []
    if members:
        conds = [subtree_condition(Organization.region_code, code) for code in sorted(members)]
        others = db.session.scalars(
            sa.select(Organization)
            .where(
                Organization.kind == OrgKind.legal_aid_centre,
                Organization.active,
                sa.or_(*conds),
                Organization.id.not_in([c.id for c in competent] + [application.centre_id]),
            )
            .order_by(Organization.region_code, Organization.name)
            .limit(200)
        ).all()
    return [c for c in competent if c.id != application.centre_id] + list(others)


# --- erasure (privacy's retention job and a person's request decide whose) -----------------------------------

CLEARED_APPLICANT: dict[str, None] = {
    "applicant_gender": None,
    "applicant_ethnicity": None,
    "applicant_occupation": None,
    "applicant_address": None,
}


def applicant_not_erased() -> sa.ColumnElement[bool]:
    """Applications whose applicant still has a name, an ID number or a phone."""
    app = LegalAidApplication
    return sa.or_(app.applicant_name != ERASED_NAME, app.id_number_enc.is_not(None), app.phone_enc.is_not(None))


def erase_applicant_batch(condition: sa.ColumnElement[bool], *, limit: int) -> list[int]:
    """Erase the applicants of the first ``limit`` applications (by id) matching ``condition`` not erased yet,
    with one UPDATE: name → ``ERASED_NAME``, numbers and particulars cleared; the dates and the decision stay.
    Returns their ids, empty when none is left. Call it until it returns nothing."""
    app = LegalAidApplication
    ids = list(
        db.session.scalars(sa.select(app.id).where(applicant_not_erased(), condition).order_by(app.id).limit(limit))
    )
    if ids:
        # the version moves on, so a page holding the application before the erasure cannot save over it
        db.session.execute(
            sa.update(app)
            .where(app.id.in_(ids))
            .values(applicant_name=ERASED_NAME, version=app.version + 1, **CLEARED_NUMBERS, **CLEARED_APPLICANT)
        )
    return ids


# --- applications handed over between hubs (federation) ---------------------------------------------------------


def receive_forwarded_application(
    actor: Actor,
    data: dict[str, Any],
    *,
    number: str,
    centre: Organization,
    from_centre: Organization,
    filed_centre: Organization,
    agreement_code: str,
    forwarded_on: date,
) -> LegalAidApplication:
    """An application another hub handed to ``centre`` (this hub's competent centre) under a 通办 agreement: held
    here as ``transferred``, received that day (its 7-day clock starts), with the hand-over from the sending centre
    as this hub knows it. The applicant's numbers are encrypted with this hub's keys."""
    errors: dict[str, list[str]] = {}
    if centre.is_remote or centre.kind != OrgKind.legal_aid_centre or not centre.active:
        collect(errors, "to_centre_id", coded("target_not_legal_aid_centre", "目标机构不是有效的法律援助中心"))
    if db.session.get(Agreement, agreement_code) is None:
        collect(errors, "agreement_code", coded("unknown_agreement", "未知的协议"))
    if db.session.get(Region, data["matter_region_code"]) is None:
        collect(errors, "matter_region_code", coded("unknown_region", "未知的地区"))
    raise_if(errors)
    application = LegalAidApplication(
        number=number,
        status=S.transferred,
        centre=centre,
        filed_centre=filed_centre,
        applicant_name=data["applicant_name"],
        applicant_region_code=data.get("applicant_region_code"),
        applicant_gender=data.get("applicant_gender"),
        applicant_ethnicity=data.get("applicant_ethnicity"),
        applicant_address=data.get("applicant_address"),
        applicant_occupation=data.get("applicant_occupation"),
        matter_category=data["matter_category"],
        matter_region_code=data["matter_region_code"],
        hardship=Hardship(data["hardship"]),
        exempt_group=data.get("exempt_group"),
        summary=data["summary"],
        filed_on=data["filed_on"],
        received_on=forwarded_on,
        last_step_on=forwarded_on,
    )
    application.set_id_number(data.get("applicant_id_number"))
    application.set_phone(data.get("applicant_phone"))
    application.decide_by, application.decide_by_provisional = decision_deadline(application, forwarded_on)
    db.session.add(application)
    db.session.flush()
    db.session.add(
        LegalAidHandover(
            application_id=application.id,
            from_centre_id=from_centre.id,
            to_centre_id=centre.id,
            agreement_code=agreement_code,
            on_date=forwarded_on,
            by_name=actor.username,
        )
    )
    db.session.flush()
    record_event(
        application,
        "transferred",
        actor,
        forwarded_on,
        {
            "from_centre_id": from_centre.id,
            "to_centre_id": centre.id,
            "agreement_code": agreement_code,
            "hardship": application.hardship.value,
            "exempt_group": application.exempt_group,
            "decide_by": application.decide_by.isoformat() if application.decide_by else None,
        },
    )
    return application
