"""Region look-ups: one region, children, and whole subtrees (custom groupings included); loading the national
divisions, and towns and villages added under them (one, or in bulk from a csv)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext

from ..core.actor import Actor
from ..core.db import utcnow
from ..core.inputs import character_problem, printable
from ..core.messages import Coded, code_of, coded
from ..core.shanghai import today_shanghai
from ..errors import NotFound, ValidationFailed, collect, raise_if
from ..extensions import db
from .models import ReferenceSource, Region, RegionLevel, RegionMember
from .policy import POLICY

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


# --- towns and villages (统计用区划代码) ---------------------------------------------------------------------
#
# The National Bureau of Statistics writes every division in 12 digits: a county 130629000000, a town (乡镇、街道)
# the county's 6 digits, 3 more and "000" (130629101000), a village (村、社区) the town's 9 digits and 3 more
# (130629101001). Other lists write a town in 9 digits (130629101). A code is stored as the file gives it; the two
# forms of one town are one place (``place_key``), and a parent may be written in either form (a county in 6 digits
# as the divisions hold it, or in 12 as the statistics write it).

PLACES_DATASET = "places"
UNNAMED_SOURCE = "未命名文件"  # stored as is: a csv sent to the API as the body itself has no name
PLACE_NAME_MAX = 80
TOWN_CODE = re.compile(r"[0-9]{6}(?!000)[0-9]{3}(?:000)?")
VILLAGE_CODE = re.compile(r"[0-9]{9}(?!000)[0-9]{3}")
# The header of a places csv, in English or as the Chinese lists head it.
PLACE_COLUMNS = {
    "code": "code",
    "代码": "code",
    "name": "name",
    "名称": "name",
    "parent": "parent",
    "上级代码": "parent",
}
_FIELD_ORDER = {"code": 0, "name": 1, "parent": 2}
MAX_REPORTED_PROBLEMS = 1000  # a file wrong throughout is answered with its first problems and a count of the rest
_LOOKUP_CHUNK = 500  # codes per IN list when reading the held places


@dataclass(frozen=True)
class PlacesImported:
    """What a load of towns and villages did: places added, and held places whose name it changed (a row that
    matches what is held counts in neither, so loading the same file again answers 0 and 0)."""

    added: int
    updated: int


@dataclass(frozen=True)
class _Anchor:
    """What a place hangs from: a held region, or a town of the same file not written yet."""

    code: str
    level: RegionLevel
    path: str
    province_code: str | None
    prefecture_code: str | None

    @classmethod
    def of(cls, region: Region) -> _Anchor:
        return cls(region.code, region.level, region.path, region.province_code, region.prefecture_code)

    @property
    def key(self) -> str:
        return place_key(self.code)

    def child(self, code: str, level: RegionLevel) -> _Anchor:
        return _Anchor(code, level, f"{self.path}{code}/", self.province_code, self.prefecture_code)


@dataclass(frozen=True)
class _PlaceRow:
    line: int
    code: str
    name: str
    parent: str

    @property
    def key(self) -> str:
        return place_key(self.code)


def place_key(code: str) -> str:
    """One key per place whatever the form of its code: a 12-digit code ending in 000000 is its county's 6 digits,
    one ending in 000 its town's 9; any other code is its own key. Only for matching: codes are stored as given."""
    if len(code) == 12 and code.endswith("000000"):
        return code[:6]
    if len(code) == 12 and code.endswith("000"):
        return code[:9]
    return code


def _forms_of(key: str) -> tuple[str, ...]:
    """The codes a place with this key may be held under."""
    if len(key) == 6:
        return (key, key + "000000")
    if len(key) == 9:
        return (key, key + "000")
    return (key,)


def place_level_under(parent: Region) -> RegionLevel | None:
    """The level of a place added under ``parent``: a town under a county-level division, or under a
    prefecture-level city that has no counties (东莞, 中山, 儋州: their towns hang from the city); a village under a
    town; None anywhere else."""
    if parent.level == RegionLevel.county:
        return RegionLevel.town
    if parent.level == RegionLevel.town:
        return RegionLevel.village
    if parent.level == RegionLevel.prefecture:
        has_counties = sa.exists().where(Region.parent_code == parent.code, Region.level == RegionLevel.county)
        return None if db.session.scalar(sa.select(has_counties)) else RegionLevel.town
    return None


def _wrong_parent_level() -> Coded:
    return coded("wrong_parent_level", "镇（街道）须在县级区划之下，村（社区）须在镇之下")


def _code_problem(code: str, parent: _Anchor, level: RegionLevel) -> Coded | None:
    """Why ``code`` cannot be a place of ``level`` under ``parent``, or None."""
    if level == RegionLevel.town:
        shape, digits = TOWN_CODE, 6
        wrong = coded("town_code_invalid", "乡镇（街道）代码应为 9 位数字，或末三位为 000 的 12 位数字")
    else:
        shape, digits = VILLAGE_CODE, 9
        wrong = coded("village_code_invalid", "村（社区）代码应为 12 位数字，末三位不为 000")
    if not shape.fullmatch(code):
        return wrong
    prefix = parent.key[:digits]
    if code[:digits] != prefix:
        return coded(
            "place_code_outside_parent",
            "代码应以上级代码的前 %(digits)s 位 %(prefix)s 开头",
            digits=digits,
            prefix=prefix,
        )
    return None


def _name_problem(name: str) -> Coded | None:
    """Why ``name`` (already stripped) cannot be a place's name, or None."""
    if not name:
        return coded("place_name_required", "请填写名称")
    if len(name) > PLACE_NAME_MAX:
        return coded(
            "place_name_too_long", "名称最多 %(max)s 个字，现有 %(count)s 个字", max=PLACE_NAME_MAX, count=len(name)
        )
    problem = character_problem(name)
    return problem() if problem is not None else None


def _place_values(code: str, name: str, level: RegionLevel, parent: _Anchor) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "level": level,
        "parent_code": parent.code,
        "path": f"{parent.path}{code}/",
        "province_code": parent.province_code,
        "prefecture_code": parent.prefecture_code,
    }


def _held_places(keys: Iterable[str]) -> dict[str, Region]:
    """The held regions of these place keys (either form of a town), by key, read in a few statements."""
    codes = sorted({form for key in keys for form in _forms_of(key)})
    held: dict[str, Region] = {}
    for start in range(0, len(codes), _LOOKUP_CHUNK):
        chunk = codes[start : start + _LOOKUP_CHUNK]
        for region in db.session.scalars(sa.select(Region).where(Region.code.in_(chunk))):
            held.setdefault(place_key(region.code), region)
    return held


def add_local_region(code: str, name: str, parent_code: str, level: RegionLevel | None = None) -> Region:
    """Add one town under a county (or under a prefecture-level city without counties) or one village under a town,
    with the checks ``import_places`` makes of each row; ``level``, when given, must be the one the parent takes."""
    parent = get_region(parent_code)
    taken = place_level_under(parent)
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if taken is None or level not in (None, taken):
        collect(errors, "parent_code", _wrong_parent_level())
    else:
        problem = _code_problem(code, _Anchor.of(parent), taken)
        if problem is not None:
            collect(errors, "code", problem)
    name_problem = _name_problem(name)
    if name_problem is not None:
        collect(errors, "name", name_problem)
    if "code" not in errors and _held_places([place_key(code)]):
        collect(errors, "code", coded("region_code_taken", "该区划代码已存在"))
    raise_if(errors)
    assert taken is not None  # a parent that takes no place raised above
    region = Region(**_place_values(code, name, taken, _Anchor.of(parent)))
    db.session.add(region)
    db.session.flush()
    return region


def read_places(content: bytes) -> list[dict[str, Any]]:
    """The rows of a places csv, each with its ``line`` in the file: UTF-8 with or without a BOM, a header
    ``code,name,parent`` or ``代码,名称,上级代码`` (columns in any order, other columns ignored), blank lines
    skipped. ValidationFailed on ``file`` for anything that is not such a file."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            {"file": [coded("places_not_utf8", "文件须为 UTF-8 编码的 csv（另存为时选择 UTF-8）")]}
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next((row for row in reader if any(cell.strip() for cell in row)), [])
    columns = {
        PLACE_COLUMNS[cell.strip().lower()]: i for i, cell in enumerate(header) if cell.strip().lower() in PLACE_COLUMNS
    }
    if set(columns) != set(_FIELD_ORDER):
        raise ValidationFailed(
            {"file": [coded("places_header", "第一行须为表头：代码,名称,上级代码（或 code,name,parent）")]}
        )
    rows = []
    for row in reader:
        if any(cell.strip() for cell in row):
            cells = {key: row[i] if i < len(row) else "" for key, i in columns.items()}
            rows.append({"line": reader.line_num, **cells})
    return rows


def import_places(actor: Actor, rows: Iterable[Mapping[str, Any]], *, source: str = "") -> PlacesImported:
    """Add towns and villages in bulk from rows ``{code, name, parent}`` (``line``: the row's line in its file;
    without it rows count from line 2, under a header), in any order: a village may come before its town.

    The level comes from the parent (held, or a town of the same rows): under a county a town, under a town a
    village; the code must begin with the parent's first 6 (town) or 9 (village) digits. A row whose place is held
    under the same parent renames it (a re-load changes nothing); under another parent it is refused. All or
    nothing: every bad row is reported at once (``lines.N.field``, each message naming its line) and nothing is
    written. The load is recorded as the reference source ``places`` (``source``: the file's name, and the day)."""
    POLICY.require(actor, "maintain_places")
    places = [_place_row(row, number) for number, row in enumerate(rows, start=2)]
    if not places:
        raise ValidationFailed({"file": [coded("places_empty", "文件中没有乡镇或村")]})
    problems: list[tuple[int, str, Coded]] = []
    plan = _plan_places(places, problems)
    if problems:
        raise ValidationFailed(_by_line(problems))
    for batch in (plan.towns, plan.villages):  # towns first: a new village hangs from a new town
        if batch:
            db.session.execute(sa.insert(Region), batch)
    for region, name in plan.renames:
        region.name = name
    _record_places_source(source)
    db.session.flush()
    return PlacesImported(added=len(plan.towns) + len(plan.villages), updated=len(plan.renames))


def import_places_file(actor: Actor, filename: str, content: bytes | None) -> PlacesImported:
    """``import_places`` of a csv file's rows (``read_places``), recorded under the file's name; ``None`` for a
    request that carried no file."""
    POLICY.require(actor, "maintain_places")
    if content is None:
        raise ValidationFailed({"file": [coded("places_file_required", "请上传乡镇、村的 csv 文件")]})
    return import_places(actor, read_places(content), source=filename)


def _place_row(row: Mapping[str, Any], number: int) -> _PlaceRow:
    def text(key: str) -> str:
        value = row.get(key)
        return "" if value is None else str(value).strip()

    return _PlaceRow(int(row.get("line") or number), text("code"), text("name"), text("parent"))


def _plan_places(places: list[_PlaceRow], problems: list[tuple[int, str, Coded]]) -> _PlacesPlan:
    """Check every row (``problems`` gathers what is wrong) and plan the writes of a clean load."""
    plan = _PlacesPlan(_well_formed(places, problems), problems)
    # Rows under a held parent first: they make the new towns that the other rows may hang from.
    for row in plan.candidates:
        parent = plan.held.get(place_key(row.parent))
        if parent is not None:
            plan.under_held(row, parent)
    named = {row.key for row in places}
    pending = []
    for row in plan.candidates:
        key = place_key(row.parent)
        if key in plan.held:
            continue
        anchor = plan.anchors.get(key)
        if anchor is not None and anchor.level == RegionLevel.town:
            plan.add(row, anchor, RegionLevel.village)
        elif key in plan.in_file:
            pending.append(row)
        elif key not in named:  # else the parent's own row is malformed or repeated, and says so
            unknown = coded(
                "unknown_parent_region", "上级代码 %(code)s 不在文件中，也不是已有的区划", code=printable(row.parent)
            )
            problems.append((row.line, "parent", unknown))
    refused = {line for line, _field, _message in problems}
    for row in pending:  # under a row that is no town: a village, or a row refused for its own reasons
        if plan.in_file[place_key(row.parent)].line not in refused:
            problems.append((row.line, "parent", _wrong_parent_level()))
    return plan


def _well_formed(places: list[_PlaceRow], problems: list[tuple[int, str, Coded]]) -> list[_PlaceRow]:
    """The rows whose code has a place's shape, whose parent is given and whose place no earlier row names;
    what is wrong with each of the others (and with every name) goes to ``problems``."""
    first_line: dict[str, int] = {}
    candidates = []
    for row in places:
        name_problem = _name_problem(row.name)
        if name_problem is not None:
            problems.append((row.line, "name", name_problem))
        if not row.parent:
            problems.append((row.line, "parent", coded("parent_code_required", "请填写上级代码")))
        code_problem = _shape_problem(row, first_line)
        if code_problem is not None:
            problems.append((row.line, "code", code_problem))
            continue
        first_line[row.key] = row.line
        if row.parent:
            candidates.append(row)
    return candidates


def _shape_problem(row: _PlaceRow, first_line: dict[str, int]) -> Coded | None:
    """Why the row's code is no place's code, or names a place an earlier row names; None when neither."""
    if not row.code:
        return coded("place_code_required", "请填写代码")
    if not (TOWN_CODE.fullmatch(row.code) or VILLAGE_CODE.fullmatch(row.code)):
        return coded("place_code_invalid", "代码应为乡镇（9 位，或末三位为 000 的 12 位）或村（12 位）的统计用区划代码")
    if row.key in first_line:
        return coded("place_code_repeated", "与第 %(line)s 行是同一个代码", line=first_line[row.key])
    return None


class _PlacesPlan:
    """The writes of a load, planned row by row against the held places: new towns (written first, a new village
    may hang from one), new villages, renames; ``problems`` gathers every row that cannot be taken."""

    def __init__(self, candidates: list[_PlaceRow], problems: list[tuple[int, str, Coded]]) -> None:
        self.candidates = candidates
        self.problems = problems
        self.held = _held_places({row.key for row in candidates} | {place_key(row.parent) for row in candidates})
        self.in_file = {row.key: row for row in candidates}
        self.anchors: dict[str, _Anchor] = {}  # a planned place's key -> what its children hang from
        self.towns: list[dict[str, Any]] = []
        self.villages: list[dict[str, Any]] = []
        self.renames: list[tuple[Region, str]] = []
        self._levels: dict[str, RegionLevel | None] = {}  # a held parent's code -> the level of places under it

    def under_held(self, row: _PlaceRow, parent: Region) -> None:
        """Plan a row whose parent is held (its level is the one the parent takes)."""
        if parent.code not in self._levels:
            self._levels[parent.code] = place_level_under(parent)
        level = self._levels[parent.code]
        if level is None:
            self.problems.append((row.line, "parent", _wrong_parent_level()))
        else:
            self.add(row, _Anchor.of(parent), level)

    def add(self, row: _PlaceRow, parent: _Anchor, level: RegionLevel) -> None:
        """Plan one row whose parent and level are known: an addition, a rename, nothing, or a problem."""
        problem = _code_problem(row.code, parent, level)
        if problem is not None:
            self.problems.append((row.line, "code", problem))
            return
        place = self.held.get(row.key)
        if place is None:
            (self.towns if level == RegionLevel.town else self.villages).append(
                _place_values(row.code, row.name, level, parent)
            )
            self.anchors[row.key] = parent.child(row.code, level)
        elif place_key(place.parent_code or "") != parent.key:
            self.problems.append((row.line, "parent", _held_elsewhere(place)))
        else:
            self.anchors[row.key] = _Anchor.of(place)
            if place.name != row.name:
                self.renames.append((place, row.name))


def _held_elsewhere(place: Region) -> Coded:
    parent = place.parent
    return coded(
        "region_parent_differs",
        "代码 %(code)s 已登记在 %(parent)s（%(parent_code)s）之下",
        code=place.code,
        parent=parent.full_name if parent is not None else "",
        parent_code=place.parent_code or "",
    )


def _by_line(problems: list[tuple[int, str, Coded]]) -> dict[str, list[str]]:
    """The problems as ValidationFailed's errors: ``lines.N.field`` in line order, each message naming its line;
    past ``MAX_REPORTED_PROBLEMS`` one message on ``file`` says how many more there are."""
    errors: dict[str, list[str]] = {}
    ordered = sorted(problems, key=lambda p: (p[0], _FIELD_ORDER[p[1]]))
    for line, key, message in ordered[:MAX_REPORTED_PROBLEMS]:
        text = gettext("第 %(line)s 行：%(message)s", line=line, message=message)
        collect(errors, f"lines.{line}.{key}", Coded(code_of(message), text))
    if len(ordered) > MAX_REPORTED_PROBLEMS:
        more = len(ordered) - MAX_REPORTED_PROBLEMS
        collect(errors, "file", coded("places_more_problems", "另有 %(count)s 处错误未列出", count=more))
    return errors


def _record_places_source(source: str) -> None:
    record = db.session.get(ReferenceSource, PLACES_DATASET) or ReferenceSource(dataset=PLACES_DATASET)
    record.source = source.strip() or UNNAMED_SOURCE
    record.version = today_shanghai().isoformat()
    record.loaded_at = utcnow()
    db.session.add(record)
