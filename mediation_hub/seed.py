"""Reference data (``seed reference``) and a believable 京津冀 demo set-up (``seed demo``). Both idempotent."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from .agreements.reference import load_agreements
from .auth.models import User
from .auth.service import hash_password
from .cases.reference import load_case_reference
from .core.actor import Role
from .demo import demo_id_number, seed_demo_activity
from .extensions import db
from .regions.models import Region
from .regions.service import add_local_region, load_divisions
from .registry.models import Mediator, Organization, OrgKind, Studio


def seed_reference() -> dict:
    """Divisions, 雄安新区, categories, sources, agreements, and the working-day calendar: every official year
    the installed ``chinesecalendar`` knows (never over an administrator's correction), then this year and
    next, provisional where no notice is loaded yet."""
    from .calendars.service import prepare_years, sync_package_years
    from .core.shanghai import today_shanghai

    counts = {
        "regions": load_divisions(),
        "case_reference": load_case_reference(),
        "agreements": load_agreements(),
        "calendar_years": len(sync_package_years()),
    }
    counts["provisional_years"] = len(prepare_years(today_shanghai()))
    return counts


DEMO_PASSWORD = "hub-demo-2026"  # noqa: S105 - demo accounts on a local SQLite file, printed by make run

# (key, name, kind, region, parent key)
DEMO_ORGANIZATIONS = [
    ("bj_bureau", "北京市朝阳区司法局", OrgKind.justice_bureau, "110105", None),
    ("bj_committee", "朝阳区劲松街道人民调解委员会", OrgKind.people_mediation_committee, "110105", "bj_bureau"),
    ("bj_medical", "北京市医疗纠纷人民调解委员会", OrgKind.professional_mediation_org, "110108", None),
    ("bj_traffic", "海淀区道路交通事故人民调解委员会", OrgKind.professional_mediation_org, "110108", None),
    ("bj_legal_aid", "北京市朝阳区法律援助中心", OrgKind.legal_aid_centre, "110105", "bj_bureau"),
    ("bj_governance", "朝阳区综治中心", OrgKind.governance_centre, "110105", None),
    ("tj_bureau", "天津市滨海新区司法局", OrgKind.justice_bureau, "120116", None),
    ("tj_committee", "滨海新区塘沽街道人民调解委员会", OrgKind.people_mediation_committee, "120116", "tj_bureau"),
    ("tj_labour", "天津市劳动争议人民调解委员会", OrgKind.professional_mediation_org, "120101", None),
    ("tj_legal_aid", "天津市和平区法律援助中心", OrgKind.legal_aid_centre, "120101", None),
    ("tj_governance", "滨海新区综治中心", OrgKind.governance_centre, "120116", None),
    ("hb_bureau", "保定市司法局", OrgKind.justice_bureau, "130600", None),
    ("bd_committee", "竞秀区先锋街道人民调解委员会", OrgKind.people_mediation_committee, "130602", "hb_bureau"),
    ("bd_property", "保定市物业纠纷人民调解委员会", OrgKind.professional_mediation_org, "130602", None),
    ("bd_legal_aid", "保定市法律援助中心", OrgKind.legal_aid_centre, "130602", "hb_bureau"),
    ("rc_committee", "容城县容城镇人民调解委员会", OrgKind.people_mediation_committee, "130629", None),
    ("rc_governance", "容城县综治中心", OrgKind.governance_centre, "130629", None),
    ("rcz_governance", "容城县容城镇综治中心", OrgKind.governance_centre, "130629100000", None),
    ("sjz_bureau", "石家庄市长安区司法局", OrgKind.justice_bureau, "130102", None),
    ("sjz_committee", "长安区建北街道人民调解委员会", OrgKind.people_mediation_committee, "130102", "sjz_bureau"),
    ("sjz_legal_aid", "石家庄市长安区法律援助中心", OrgKind.legal_aid_centre, "130102", "sjz_bureau"),
    ("lf_committee", "三河市燕郊镇人民调解委员会", OrgKind.people_mediation_committee, "131082", None),
]

# 文书代字 of the demo organisations that print documents: （2026）保竞调字第 1 号
DEMO_DOCUMENT_CODES = {
    "bj_committee": "朝劲",
    "bj_medical": "京医",
    "bj_traffic": "海交",
    "bj_legal_aid": "朝",
    "tj_committee": "滨塘",
    "tj_labour": "津劳",
    "tj_legal_aid": "和",
    "bd_committee": "保竞",
    "bd_property": "保物",
    "bd_legal_aid": "保",
    "rc_committee": "容城",
    "sjz_committee": "长建",
    "sjz_legal_aid": "长",
    "lf_committee": "三燕",
}

# (name, org key, birth date, sequence, specialties)
DEMO_MEDIATORS = [
    ("王建国", "bj_committee", date(1962, 3, 14), "021", ["邻里", "婚姻家庭"]),
    ("李淑芬", "bj_medical", date(1970, 11, 2), "042", ["医疗"]),
    ("赵志强", "bj_traffic", date(1975, 6, 21), "013", ["道路交通事故", "损害赔偿"]),
    ("张秀兰", "tj_committee", date(1968, 1, 30), "064", ["邻里", "物业"]),
    ("刘海涛", "tj_labour", date(1979, 9, 9), "035", ["劳动争议"]),
    ("陈玉梅", "bd_committee", date(1966, 4, 18), "028", ["婚姻家庭", "房屋宅基地"]),
    ("杨振华", "bd_property", date(1981, 12, 5), "017", ["物业", "合同"]),
    ("孙德明", "rc_committee", date(1958, 7, 27), "011", ["山林土地", "征地拆迁"]),
    ("周丽娜", "sjz_committee", date(1985, 2, 11), "046", ["消费", "合同"]),
    ("吴国庆", "lf_committee", date(1972, 10, 1), "039", ["邻里", "劳动争议"]),
]

DEMO_STUDIOS = [
    ("老王调解工作室", "bj_committee", "王建国", "bj_bureau", ["邻里", "婚姻家庭"]),
    ("秀兰和事佬工作室", "tj_committee", "张秀兰", "tj_bureau", ["邻里", "物业"]),
    ("玉梅家事调解工作室", "bd_committee", "陈玉梅", "hb_bureau", ["婚姻家庭"]),
    ("德明乡土调解工作室", "rc_committee", "孙德明", "hb_bureau", ["山林土地", "征地拆迁"]),
]

# (username, display name, role, org key, region)
DEMO_USERS = [
    ("admin", "系统管理员", Role.admin, None, None),
    ("registry", "登记管理员(河北)", Role.registry_admin, None, "130000"),
    ("mediator", "陈玉梅(保定竞秀)", Role.mediator, "bd_committee", None),
    ("mediator_bj", "王建国(北京朝阳)", Role.mediator, "bj_committee", None),
    ("legal_aid", "天津和平法援", Role.legal_aid_officer, "tj_legal_aid", None),
    ("legal_aid_hb", "保定法援", Role.legal_aid_officer, "bd_legal_aid", None),
    ("coordinator", "河北省协调官员", Role.coordinator, None, "130000"),
    ("coordinator_bj", "北京市协调官员", Role.coordinator, None, "110000"),
    ("governance", "容城镇综治中心", Role.coordinator, "rcz_governance", "130629100000"),
]

# A town of 容城县 and two of its villages, as an administrator would load them from the 统计用区划代码 (demo names):
# the town's governance centre answers for the disputes that arise there, whoever mediates them.
DEMO_PLACES = [
    ("130629100000", "容城镇", "130629"),
    ("130629100201", "东关村", "130629100000"),
    ("130629100202", "西关村", "130629100000"),
]


def seed_demo_places() -> None:
    """The demo's town and villages (idempotent): the town's governance centre is registered there."""
    for place_code, place_name, parent_code in DEMO_PLACES:
        if db.session.get(Region, place_code) is None:
            add_local_region(place_code, place_name, parent_code)


def seed_demo() -> dict:
    """Organisations, mediators, studios and one account per role across Beijing, Tianjin and Hebei."""
    seed_demo_places()
    orgs: dict[str, Organization] = {}
    for key, name, kind, region, parent in DEMO_ORGANIZATIONS:
        org = db.session.scalar(sa.select(Organization).where(Organization.name == name))
        if org is None:
            org = Organization(
                name=name, kind=kind, region_code=region, parent_id=orgs[parent].id if parent else None, specialties=[]
            )
            db.session.add(org)
            db.session.flush()
        if org.document_code is None and key in DEMO_DOCUMENT_CODES:
            org.document_code = DEMO_DOCUMENT_CODES[key]
        orgs[key] = org
    mediators: dict[str, Mediator] = {}
    for index, (name, org_key, born, seq, specialties) in enumerate(DEMO_MEDIATORS):
        mediator = db.session.scalar(
            sa.select(Mediator).where(Mediator.name == name, Mediator.organization_id == orgs[org_key].id)
        )
        if mediator is None:
            mediator = Mediator(name=name, organization_id=orgs[org_key].id, specialties=specialties)
            mediator.set_id_number(demo_id_number(orgs[org_key].region_code, born, seq))
            mediator.set_phone(f"13{index % 10}1234{5678 + index:04d}"[:11])
            db.session.add(mediator)
            db.session.flush()
        mediators[name] = mediator
    for name, org_key, lead, bureau, specialties in DEMO_STUDIOS:
        if db.session.scalar(sa.select(Studio.id).where(Studio.name == name)) is None:
            db.session.add(
                Studio(
                    name=name,
                    organization_id=orgs[org_key].id,
                    lead_mediator_id=mediators[lead].id,
                    named_by_id=orgs[bureau].id,
                    named_on=date(2024, 3, 1),
                    specialties=specialties,
                )
            )
    for username, display, role, user_org, user_region in DEMO_USERS:
        if db.session.scalar(sa.select(User.id).where(User.username == username)) is None:
            db.session.add(
                User(
                    username=username,
                    display_name=display,
                    role=role,
                    organization_id=orgs[user_org].id if user_org else None,
                    region_code=user_region,
                    password_hash=hash_password(DEMO_PASSWORD),
                )
            )
    db.session.flush()
    activity = seed_demo_activity()
    return {"organizations": len(orgs), "mediators": len(mediators), "users": len(DEMO_USERS), **activity}
