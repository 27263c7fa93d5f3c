"""Demo history for ``seed demo``: a year of cases run through the real services, so the worklists, the
case pages, the transfer queues, the legal-aid queue and the officials' dashboard show something real.

Everything goes through the same service functions a user's actions do (nothing is written around the
rules), laid relative to today (whatever day that is, next year included: a deadline in a year whose holiday
notice is not out yet is counted on the provisional calendar), so on any day a new user meets a transfer
still open for an answer, a legal-aid application inside its 7-day clock, cases due this week and overdue
ones. Idempotent: it does nothing once the demo organisations have cases."""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa
from stdnum.cn import ric

from .cases import service as cases
from .cases.models import Case
from .core.actor import SYSTEM
from .core.shanghai import today_shanghai
from .extensions import db
from .registry.models import Mediator, Organization

# (organisation name, cases to register, share of cross-region respondents)
DEMO_CASELOADS = [
    ("竞秀区先锋街道人民调解委员会", 28, 0.15),
    ("保定市物业纠纷人民调解委员会", 14, 0.0),
    ("容城县容城镇人民调解委员会", 16, 0.1),
    ("长安区建北街道人民调解委员会", 12, 0.0),
    ("三河市燕郊镇人民调解委员会", 16, 0.3),
    ("朝阳区劲松街道人民调解委员会", 22, 0.1),
    ("北京市医疗纠纷人民调解委员会", 8, 0.0),
    ("滨海新区塘沽街道人民调解委员会", 14, 0.1),
    ("天津市劳动争议人民调解委员会", 10, 0.0),
]
# Where a caseload's disputes arise when not in its organisation's own district (the occurred basis, 属地): the 容城
# committee's in the villages of 容城镇, the municipal committees' in the districts of the hospitals and firms.
DEMO_OCCURRENCES = {
    "容城县容城镇人民调解委员会": ["130629100201", "130629100202", "130629100000", "130629"],
    "北京市医疗纠纷人民调解委员会": ["110105", "110101", "110108"],
    "天津市劳动争议人民调解委员会": ["120116", "120101"],
}
CATEGORY_MIX = [
    ("marriage_family", 24),
    ("neighbour", 22),
    ("housing_homestead", 8),
    ("contract", 8),
    ("damages", 8),
    ("labour", 7),
    ("property_management", 6),
    ("traffic", 5),
    ("consumer", 4),
    ("medical", 3),
    ("other", 5),
]
SUMMARIES = {
    "marriage_family": "夫妻因子女抚养费支付发生争执",
    "neighbour": "楼上漏水导致楼下墙面受损，双方协商未果",
    "housing_homestead": "相邻宅基地界址争议",
    "contract": "装修合同工期延误引发纠纷",
    "damages": "宠物犬咬伤路人，赔偿数额有争议",
    "labour": "拖欠三个月工资",
    "property_management": "物业费收取标准争议",
    "traffic": "电动车与行人碰撞，医疗费承担争议",
    "consumer": "预付卡退费纠纷",
    "medical": "术后并发症责任争议",
    "other": "集体土地收益分配意见不一",
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["建华", "秀英", "志强", "丽娟", "海峰", "桂兰", "国庆", "玉梅", "晓东", "春燕", "德明", "淑芬"]


def demo_id_number(region: str, born: date, sequence: str) -> str:
    """A citizen ID number with a valid check digit for a demo person (region code, birth date, sequence)."""
    body = f"{region}{born:%Y%m%d}{sequence}"
    return body + ric.calc_check_digit(body + "0")


def _id_number(rng: random.Random, region: str) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    return demo_id_number(region, born, f"{rng.randrange(0, 1000):03d}")


def _party(rng: random.Random, role: str, region: str, id_region: str) -> dict:
    return {
        "role": role,
        "kind": "person",
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "region_code": region,
        "id_number": _id_number(rng, id_region),
        "phone": f"13{rng.randrange(0, 10)}{rng.randrange(10**8):08d}",
    }


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in pairs], weights=[w for _, w in pairs])[0]


def _register(rng: random.Random, org: Organization, received: date, respondent_region: str) -> Case:
    category = _weighted(rng, CATEGORY_MIX)
    data = {
        "organization_id": org.id,
        "category": category,
        "source": rng.choice(
            ["party_application", "party_application", "grid_screening", "court_referral", "hotline_12348"]
        ),
        "summary": SUMMARIES[category],
        "received_on": received,
        "occurred_region_code": rng.choice(DEMO_OCCURRENCES.get(org.name, [org.region_code])),
        "amount_yuan": rng.choice([None, 800, 3500, 12000]),
        "major": False,
        "parties": [
            _party(rng, "applicant", org.region_code, "110105"),
            _party(rng, "respondent", respondent_region, "110105"),
        ],
    }
    case, _warnings = cases.register_case(SYSTEM, data)
    return case


def _run_case(
    rng: random.Random, org: Organization, mediator: Mediator | None, received: date, today: date, cross_region: bool
) -> Case:
    other_region = "110105" if org.region_code[:2] != "11" else "130602"
    case = _register(rng, org, received, other_region if cross_region else org.region_code)
    if rng.random() < 0.05:
        cases.decline_case(
            SYSTEM,
            case.id,
            reason="不属于人民调解受理范围，已告知当事人向有关部门申请",
            declined_on=received + timedelta(days=1),
        )
        return case
    accepted = received + timedelta(days=rng.choice([0, 1, 2]))
    if accepted > today or rng.random() < 0.04:
        return case  # still waiting to be accepted
    cases.accept_case(SYSTEM, case.id, mediator_id=mediator.id if mediator else None, accepted_on=accepted)
    session_day = accepted + timedelta(days=rng.randrange(2, 12))
    if session_day > today or (cross_region and received > today - timedelta(days=40)):
        return case
    cases.record_session(SYSTEM, case.id, held_on=session_day, summary="双方到场，调解员释法说理，分别听取意见")
    concluded = session_day + timedelta(days=rng.randrange(0, 25))
    if concluded > today or rng.random() < 0.06:
        return case  # in mediation (some of them past their time limit)
    roll = rng.random()
    outcome = "agreement" if roll < 0.93 else "no_agreement" if roll < 0.97 else "withdrawn"
    amount = rng.choice([1000, 2600, 5000, 8800]) if outcome == "agreement" else None
    cases.conclude_case(
        SYSTEM,
        case.id,
        outcome=outcome,
        concluded_on=concluded,
        agreement_amount_yuan=amount,
        terms="被申请人于十五日内一次性支付" if amount else None,
    )
    return case


def seed_demo_activity(today: date | None = None) -> dict:
    """Register and run a believable year of cases, one pending cross-region transfer, and a legal-aid
    application handed over under 通办. Returns counts; does nothing when demo cases already exist."""
    today = today or today_shanghai()
    orgs = {o.name: o for o in db.session.scalars(sa.select(Organization))}
    demo_ids = [orgs[name].id for name, _n, _x in DEMO_CASELOADS if name in orgs]
    if not demo_ids or db.session.scalar(sa.select(sa.func.count(Case.id)).where(Case.organization_id.in_(demo_ids))):
        return {"cases": 0}
    rng = random.Random(2260)
    made = []
    for name, count, cross_share in DEMO_CASELOADS:
        org = orgs.get(name)
        if org is None:
            continue
        mediator = db.session.scalar(sa.select(Mediator).where(Mediator.organization_id == org.id))
        for _ in range(count):
            received = today - timedelta(days=rng.randrange(1, 330))
            made.append(_run_case(rng, org, mediator, received, today, rng.random() < cross_share))
    made += _demo_deadlines(rng, orgs, today)
    transfers = _demo_transfer(orgs, today)
    legal_aid = _demo_legal_aid(orgs, today)
    db.session.flush()
    return {"cases": len(made), "transfers": transfers, "legal_aid_applications": legal_aid}


# (days before today the case was received and accepted, a session held?) for the first mediator's worklist:
# due in 2 and 5 days (a 30-day limit), and past it by 10 and 3 days.
DEMO_DEADLINES = [(28, False), (25, True), (40, True), (33, False)]


def _demo_deadlines(rng: random.Random, orgs: dict[str, Organization], today: date) -> list[Case]:
    """Open cases whose time limits fall this week or have passed, whatever today is."""
    org = orgs.get(DEMO_CASELOADS[0][0])
    if org is None:
        return []
    mediator = db.session.scalar(sa.select(Mediator).where(Mediator.organization_id == org.id))
    made = []
    for days_ago, with_session in DEMO_DEADLINES:
        day = today - timedelta(days=days_ago)
        case = _register(rng, org, day, org.region_code)
        cases.accept_case(SYSTEM, case.id, mediator_id=mediator.id if mediator else None, accepted_on=day)
        if with_session:
            cases.record_session(
                SYSTEM, case.id, held_on=day + timedelta(days=3), summary="分别听取双方意见，约定再次调解"
            )
        made.append(case)
    return made


def _demo_transfer(orgs: dict[str, Organization], today: date) -> int:
    """A 保定 case with a Beijing respondent, sent to the Beijing committee for joint handling."""
    from .transfers.service import request_transfer

    sender, receiver = orgs.get("竞秀区先锋街道人民调解委员会"), orgs.get("朝阳区劲松街道人民调解委员会")
    if sender is None or receiver is None:
        return 0
    case = db.session.scalar(
        sa.select(Case)
        .where(
            Case.organization_id == sender.id,
            Case.cross_region.is_(True),
            Case.status.in_(["accepted", "in_mediation"]),
        )
        .order_by(Case.received_on.desc())
    )
    if case is None:
        return 0
    request_transfer(
        SYSTEM,
        case.id,
        to_organization_id=receiver.id,
        agreement_code="JJJ-MEDIATION",
        mode="transfer",
        note="被申请人常住北京朝阳，请求接收",
        requested_on=today,
    )
    return 1


def _demo_legal_aid(orgs: dict[str, Organization], today: date) -> int:
    """Tianjin receives a 保定 labour matter and passes it on under 法律援助通办."""
    from .legal_aid.service import file_application, transfer_application

    tianjin, baoding = orgs.get("天津市和平区法律援助中心"), orgs.get("保定市法律援助中心")
    if tianjin is None or baoding is None:
        return 0
    rng = random.Random(38)
    application = file_application(
        SYSTEM,
        {
            "centre_id": tianjin.id,
            "applicant": _party(rng, "applicant", "120101", "110105"),
            "matter_category": "labour_remuneration",
            "matter_region_code": "130602",
            "hardship": "exempt",
            "exempt_group": "migrant_worker_wages_injury",
            "summary": "在保定工地务工，被拖欠工资四个月",
            "received_on": today - timedelta(days=1),
        },
    )
    transfer_application(SYSTEM, application.id, to_centre_id=baoding.id, transferred_on=today)
    return 1
