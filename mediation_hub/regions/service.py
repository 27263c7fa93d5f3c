"""Region look-ups: one region, children, and whole subtrees (custom groupings included)."""

from __future__ import annotations

import csv
from importlib import resources

import sqlalchemy as sa

from ..errors import NotFound
from ..extensions import db
from .models import ReferenceSource, Region, RegionLevel, RegionMember

XIONGAN = ("XIONGAN", "雄安新区", ["130629", "130632", "130638"])


def get_region(code: str) -> Region:
    """The region with this code, or NotFound."""
    region = db.session.get(Region, code)
    if region is None:
        raise NotFound("region")
    return region


def children_of(parent_code: str | None) -> sa.Select[tuple[Region]]:
    """Direct children of a region (provinces and custom regions for ``None``)."""
    cond: sa.ColumnElement[bool]
    if parent_code is None:
        cond = Region.parent_code.is_(None)
    else:
        group = db.session.get(Region, parent_code)
        if group is not None and group.level == RegionLevel.custom:
            cond = Region.code.in_(group.member_codes)
        else:
            cond = Region.parent_code == parent_code
    return sa.select(Region).where(cond).order_by(Region.code)


def subtree_condition(column: sa.SQLColumnExpression[str | None], code: str) -> sa.ColumnElement[bool]:
    """A SQL condition true when ``column`` (a region code) lies in ``code``'s subtree.

    Uses the materialised path, so it is a join on the indexed ``path`` prefix, never a Python loop."""
    region = get_region(code)
    roots = [db.session.get(Region, c) for c in region.member_codes] if region.level == RegionLevel.custom else [region]
    paths = [r.path for r in roots if r is not None]
    if not paths:
        return sa.false()
    inner = sa.select(Region.code).where(sa.or_(*(Region.path.startswith(p) for p in paths)))
    return column.in_(inner.scalar_subquery())


def subtree_codes(code: str) -> set[str]:
    """The codes of ``code``'s subtree (for small checks; queries should use subtree_condition)."""
    return set(db.session.scalars(sa.select(Region.code).where(subtree_condition(Region.code, code))))


def is_within(code: str | None, ancestor_code: str) -> bool:
    """Whether region ``code`` lies in the subtree of ``ancestor_code``."""
    if not code:
        return False
    region = db.session.get(Region, code)
    return region is not None and region.code in subtree_codes(ancestor_code)


def province_of(code: str) -> str | None:
    region = db.session.get(Region, code)
    return region.province_code if region else None


def prefecture_of(code: str) -> str | None:
    region = db.session.get(Region, code)
    return region.prefecture_code if region else None


def add_local_region(code: str, name: str, parent_code: str, level: RegionLevel) -> Region:
    """Add a town under a county or a village under a town (for 镇/村 综治中心)."""
    parent = get_region(parent_code)
    expected = {RegionLevel.town: RegionLevel.county, RegionLevel.village: RegionLevel.town}
    from ..core.messages import coded
    from ..errors import ValidationFailed

    if expected.get(level) != parent.level:
        raise ValidationFailed(
            {"parent_code": [coded("wrong_parent_level", "镇（街道）须在县级区划之下，村（社区）须在镇之下")]}
        )
    if db.session.get(Region, code) is not None:
        raise ValidationFailed({"code": [coded("region_code_taken", "该区划代码已存在")]})
    region = Region(
        code=code,
        name=name,
        level=level,
        parent_code=parent.code,
        path=f"{parent.path}{code}/",
        province_code=parent.province_code,
        prefecture_code=parent.prefecture_code,
    )
    db.session.add(region)
    db.session.flush()
    return region


def _read_division_file() -> tuple[str, list[dict[str, str]]]:
    text = resources.files(__package__).joinpath("data/gb2260.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    source = lines[0].lstrip("# ").strip()
    return source, list(csv.DictReader(lines[1:]))


def load_divisions() -> int:
    """Load (or refresh) the national division list; idempotent. Returns the number of rows written."""
    source, rows = _read_division_file()
    existing = {c: (n, p) for c, n, p in db.session.execute(sa.select(Region.code, Region.name, Region.path))}
    by_code = {r["code"]: r for r in rows}
    paths: dict[str, str] = {}

    def path_of(code: str) -> str:
        if code not in paths:
            parent = by_code[code]["parent_code"]
            paths[code] = (path_of(parent) if parent else "") + code + "/"
        return paths[code]

    inserts, updates = [], []
    for row in rows:
        code, level = row["code"], row["level"]
        path = path_of(code)
        parts = path.strip("/").split("/")
        values = {
            "code": code,
            "name": row["name"],
            "level": level,
            "parent_code": row["parent_code"] or None,
            "path": path,
            "province_code": parts[0],
            "prefecture_code": parts[1] if len(parts) > 1 else None,
        }
        if code not in existing:
            inserts.append(values)
        elif existing[code] != (row["name"], path):
            updates.append(values)
    if inserts:
        db.session.execute(sa.insert(Region), inserts)
    for values in updates:
        db.session.execute(sa.update(Region).where(Region.code == values["code"]).values(**values))
    _ensure_custom_region(*XIONGAN)
    version = source.split(",")[0]
    record = db.session.get(ReferenceSource, "regions") or ReferenceSource(dataset="regions")
    record.source, record.version = source, version[:40]
    db.session.add(record)
    db.session.flush()
    return len(inserts) + len(updates)


def _ensure_custom_region(code: str, name: str, member_codes: list[str]) -> None:
    if db.session.get(Region, code) is None:
        db.session.add(
            Region(
                code=code, name=name, level=RegionLevel.custom, parent_code=None, path=f"{code}/", province_code=None
            )
        )
        db.session.flush()
    have = set(db.session.scalars(sa.select(RegionMember.member_code).where(RegionMember.group_code == code)))
    for member in member_codes:
        if member not in have:
            db.session.add(RegionMember(group_code=code, member_code=member))
