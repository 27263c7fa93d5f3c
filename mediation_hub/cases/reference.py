"""Case categories (national people's-mediation statistics) and case sources."""

import sqlalchemy as sa

from ..extensions import db
from .models import CaseCategory, CaseSource

CATEGORIES = [
    ("marriage_family", "婚姻家庭"),
    ("neighbour", "邻里"),
    ("housing_homestead", "房屋宅基地"),
    ("contract", "合同"),
    ("business", "生产经营"),
    ("damages", "损害赔偿"),
    ("forest_land", "山林土地"),
    ("land_expropriation", "征地拆迁"),
    ("environment", "环境污染"),
    ("labour", "劳动争议"),
    ("consumer", "消费"),
    ("medical", "医疗"),
    ("traffic", "道路交通事故"),
    ("property_management", "物业"),
    ("other", "其他"),
]

SOURCES = [
    ("party_application", "当事人申请"),
    ("proactive", "主动调解"),
    ("grid_screening", "网格排查"),
    ("police_referral", "公安移交"),
    ("court_referral", "法院委派/委托"),
    ("government_assignment", "政府部门指定"),
    ("hotline_12348", "12348 热线"),
    ("cross_region_transfer", "跨区域转入"),
]


def load_case_reference() -> int:
    """Insert missing categories and sources and refresh names; idempotent."""
    written = 0
    for model, rows in ((CaseCategory, CATEGORIES), (CaseSource, SOURCES)):
        existing = {c: n for c, n in db.session.execute(sa.select(model.code, model.name))}
        for position, (code, name) in enumerate(rows):
            if existing.get(code) != name:
                db.session.merge(model(code=code, name=name, position=position))
                written += 1
    db.session.flush()
    return written
