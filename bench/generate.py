"""Realistic synthetic data for the benchmarks, deterministic for a seed.

    python -m bench.generate --database-url postgresql+psycopg://postgres@127.0.0.1:5432/mh_bench --cases 1000000
    python -m bench.generate --smoke            # 1,000 cases into a temporary SQLite file

What it writes (through PostgreSQL COPY, or executemany elsewhere), then rebuilds the rate aggregates:
organisations per county, mediators, studios, cases with two parties each, the case event log (registered /
accepted / declined / concluded, time-limit extensions, cross-region transfer events with the handler at each
event), transfers (accepted / declined / expired / withdrawn / pending), co-mediation rows, legal-aid
applications with their events and 通办 hand-overs.

The shape, and where the numbers come from (approximations chosen for a benchmark, documented so they can
be argued with):

* Regions: 京津冀 weighted by resident population (7th census, 2020): Beijing 21.89 M, Tianjin 13.87 M, Hebei
  74.61 M split over its eleven prefectures by their census populations; within Beijing, Tianjin and each
  Hebei prefecture the population is spread evenly over the counties of the regions table.
* Categories (CATEGORY_SHARES): the pattern of the national people's-mediation statistics, where 婚姻家庭 and
  邻里 disputes are the two largest groups (about a fifth each), followed by 损害赔偿, 房屋宅基地, 合同,
  道路交通事故 and 劳动争议; rounded shares, not a quotation of one year's table.
* Outcomes: mediation success about 97 % (agreement / concluded), in the 96–98 % published range; 2 % of
  registrations declined; conclusion lag from acceptance exponential with a 9-day mean, so ~95 % on time.
* Cross-region: 4 % of cases involve a party from another province; half of those are sent to a partner
  organisation there (80 % transfer, 20 % joint), answered 70 % accepted, 15 % declined, 10 % expired,
  5 % withdrawn.
* Legal aid: 8 applications per 100 cases, 5 % filed away from the competent centre and passed on (通办).

Personal numbers: every party has its own ID number (valid check digit), masked value and keyed hash (so
search and duplicate checks behave as in production), but encryption per row is too slow for ten million
rows, so the encrypted column reuses a pool of PII_POOL values encrypted once with the bench key: a reveal
on generated data shows a pool value, not the party's own number.

Determinism: every chunk of CHUNK cases draws from its own ``random.Random(f"{seed}:{chunk}")`` and ids are
assigned in order, so the same seed and size give the same rows (tests/test_bench_smoke.py checks it). Chunk k
covers the k-th stretch of the period, so rows are written in date order, as a live system writes them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import itertools
import json
import random
import sys
import tempfile
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

CHUNK = 20_000
PII_POOL = 512
CROSS_REGION_SHARE = 0.04
DECLINE_SHARE = 0.02
LEGAL_AID_PER_CASE = 0.08
STUDIO_SHARE = 0.4  # of the cases of an organisation that has a studio
PROVINCES = ("110000", "120000", "130000")
POPULATION_M = {"110000": 21.89, "120000": 13.87}
HEBEI_PREFECTURES_M = {
    "130100": 11.24,
    "130200": 7.72,
    "130300": 3.14,
    "130400": 9.41,
    "130500": 7.11,
    "130600": 11.54,
    "130700": 4.12,
    "130800": 3.35,
    "130900": 7.30,
    "131000": 5.46,
    "131100": 4.21,
}
CATEGORY_SHARES = {
    "marriage_family": 0.20,
    "neighbour": 0.21,
    "housing_homestead": 0.07,
    "contract": 0.06,
    "business": 0.03,
    "damages": 0.08,
    "forest_land": 0.035,
    "land_expropriation": 0.015,
    "environment": 0.01,
    "labour": 0.05,
    "consumer": 0.02,
    "medical": 0.01,
    "traffic": 0.06,
    "property_management": 0.03,
    "other": 0.10,
}
SOURCE_SHARES = {
    "party_application": 0.46,
    "proactive": 0.18,
    "grid_screening": 0.14,
    "police_referral": 0.08,
    "court_referral": 0.07,
    "government_assignment": 0.03,
    "hotline_12348": 0.04,
}
OUTCOME_SHARES = {"agreement": 0.970, "no_agreement": 0.018, "withdrawn": 0.008, "referred": 0.004}
TRANSFER_ANSWERS = {"accepted": 0.70, "declined": 0.15, "expired": 0.10, "withdrawn": 0.05}
# (kind, name suffix, share of the county's cases); one justice bureau, legal-aid centre, governance centre too.
MEDIATING_ORGS = (
    ("people_mediation_committee", "城关街道人民调解委员会", 0.30),
    ("people_mediation_committee", "第二街道人民调解委员会", 0.18),
    ("people_mediation_committee", "乡镇联合人民调解委员会", 0.12),
    ("professional_mediation_org", "医疗交通行业性专业性人民调解委员会", 0.15),
    ("court_mediation", "人民法院诉调对接调解室", 0.25),
)
OTHER_ORGS = (("justice_bureau", "司法局"), ("legal_aid_centre", "法律援助中心"), ("governance_centre", "综治中心"))
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红文海波宁晨浩宇欣怡子轩梓涵"
SUMMARIES = {
    "marriage_family": "离婚后子女抚养费给付纠纷",
    "neighbour": "相邻通行及排水纠纷",
    "housing_homestead": "宅基地界址争议",
    "contract": "买卖合同货款给付纠纷",
    "business": "合伙经营利润分配纠纷",
    "damages": "人身损害赔偿纠纷",
    "forest_land": "承包地边界纠纷",
    "land_expropriation": "征收补偿款分配纠纷",
    "environment": "噪声扰民纠纷",
    "labour": "拖欠劳动报酬纠纷",
    "consumer": "商品质量退换纠纷",
    "medical": "诊疗损害赔偿纠纷",
    "traffic": "道路交通事故赔偿纠纷",
    "property_management": "物业服务费纠纷",
    "other": "其他民间纠纷",
}
ACTOR = "bench"


# --- calendar -------------------------------------------------------------------------------------------------


class WorkCalendar:
    """The hub's working-day calendar in memory (ordinals), for deadlines computed like core.calendar."""

    def __init__(self, workdays: dict[date, bool]):
        self.first = min(workdays).toordinal()
        self.last = max(workdays).toordinal()
        self.work = [
            workdays.get(date.fromordinal(o), date.fromordinal(o).weekday() < 5)
            for o in range(self.first, self.last + 1)
        ]
        self.cum = list(itertools.accumulate(int(w) for w in self.work))  # working days up to and including
        self.work_ordinals = [o for o in range(self.first, self.last + 1) if self.work[o - self.first]]

    def is_workday(self, ordinal: int) -> bool:
        return self.work[ordinal - self.first]

    def add_calendar(self, ordinal: int, days: int) -> int:
        end = ordinal + days
        return end if self.is_workday(end) else self.add_working(end, 1)

    def add_working(self, ordinal: int, days: int) -> int:
        if days <= 0:
            return ordinal
        index = bisect_left(self.work_ordinals, ordinal + 1)
        return self.work_ordinals[index + days - 1]

    def working_between(self, start: int, end: int) -> int:
        return 0 if end <= start else self.cum[end - self.first] - self.cum[start - self.first]


# --- the world: organisations, mediators, studios -------------------------------------------------------------


@dataclass
class Org:
    id: int
    name: str
    kind: str
    region_code: str
    province: str
    share: float = 0.0


@dataclass
class World:
    counties: list[str]
    county_weights: list[float]
    province_of: dict[str, str]
    orgs: list[Org]
    mediating: dict[str, list[Org]]  # county -> mediating organisations
    mediating_cum: dict[str, list[float]]
    centres: dict[str, Org]  # county -> legal-aid centre
    mediators: dict[int, list[int]]  # org id -> mediator ids
    studios: dict[int, int]  # org id -> studio id
    studio_rows: list[tuple]
    mediator_rows: list[tuple]
    counties_by_province: dict[str, list[str]] = field(default_factory=dict)


def county_regions(rows: list[tuple]) -> tuple[list[str], list[float], dict[str, str], dict[str, str]]:
    """京津冀 counties (code, name, level, parent, province) with their population weights."""
    counties = [
        (code, name, parent, province)
        for code, name, level, parent, province in rows
        if level == "county" and province in PROVINCES and name != "市辖区"
    ]
    counties.sort()
    by_group: dict[str, list[str]] = {}
    for code, _name, parent, province in counties:
        by_group.setdefault(parent if province == "130000" else province, []).append(code)
    weights = {}
    for group, codes in by_group.items():
        total = HEBEI_PREFECTURES_M.get(group) or POPULATION_M.get(group, 0.0)
        for code in codes:
            weights[code] = total / len(codes)
    codes = [c for c, *_ in counties]
    names = {c: n for c, n, *_ in counties}
    return codes, [weights[c] for c in codes], {c: p for c, _n, _p, p in counties}, names


def build_world(
    region_rows: list[tuple],
    seed: int,
    *,
    first_org_id: int = 1,
    first_mediator_id: int = 1,
    first_studio_id: int = 1,
    label: str = "",
) -> World:
    rng = random.Random(f"{seed}:world")
    codes, weights, province_of, names = county_regions(region_rows)
    orgs, mediating, mediating_cum, centres, mediators, studios = [], {}, {}, {}, {}, {}
    mediator_rows, studio_rows = [], []
    org_ids, mediator_ids, studio_ids = (
        itertools.count(first_org_id),
        itertools.count(first_mediator_id),
        itertools.count(first_studio_id),
    )
    for county in codes:
        local = []
        for kind, suffix, share in MEDIATING_ORGS:
            org = Org(next(org_ids), f"{names[county]}{suffix}{label}", kind, county, province_of[county], share)
            orgs.append(org)
            local.append(org)
            mediators[org.id] = [next(mediator_ids) for _ in range(4)]
            for position, mediator_id in enumerate(mediators[org.id]):
                mediator_rows.append((mediator_id, person_name(rng), org.id, position))
        mediating[county] = local
        mediating_cum[county] = list(itertools.accumulate(o.share for o in local))
        for kind, suffix in OTHER_ORGS:
            org = Org(next(org_ids), f"{names[county]}{suffix}{label}", kind, county, province_of[county])
            orgs.append(org)
            if kind == "legal_aid_centre":
                centres[county] = org
        if rng.random() < 0.5:  # about one named studio per two counties, in its first committee
            host = local[0]
            studio_id = next(studio_ids)
            studios[host.id] = studio_id
            bureau = next(o for o in orgs if o.region_code == county and o.kind == "justice_bureau")
            studio_rows.append(
                (
                    studio_id,
                    f"{person_name(rng)}调解工作室({names[county]}){label}",
                    host.id,
                    mediators[host.id][0],
                    bureau.id,
                )
            )
    by_province: dict[str, list[str]] = {}
    for county in codes:
        by_province.setdefault(province_of[county], []).append(county)
    return World(
        codes,
        weights,
        province_of,
        orgs,
        mediating,
        mediating_cum,
        centres,
        mediators,
        studios,
        studio_rows,
        mediator_rows,
        by_province,
    )


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


NAMES = [person_name(random.Random(f"name:{i}")) for i in range(4096)]  # a fixed pool: names repeat, as in life


# --- personal numbers ----------------------------------------------------------------------------------------

RIC_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


_REGION_SUM: dict[str, int] = {}
_BORN: dict[date, tuple[str, int]] = {}
_SEQUENCE = [
    (f"{n:03d}", sum(int(d) * w for d, w in zip(f"{n:03d}", RIC_WEIGHTS[14:], strict=True))) for n in range(1000)
]


def ric_number(region: str, born: date, sequence: int) -> str:
    """A resident ID number with a correct check digit (GB 11643), from cached partial weighted sums."""
    region_sum = _REGION_SUM.get(region)
    if region_sum is None:
        region_sum = _REGION_SUM[region] = sum(int(d) * w for d, w in zip(region, RIC_WEIGHTS[:6], strict=True))
    birth = _BORN.get(born)
    if birth is None:
        text = born.strftime("%Y%m%d")
        birth = _BORN[born] = (text, sum(int(d) * w for d, w in zip(text, RIC_WEIGHTS[6:14], strict=True)))
    seq_text, seq_sum = _SEQUENCE[sequence]
    return f"{region}{birth[0]}{seq_text}" + "10X98765432"[(region_sum + birth[1] + seq_sum) % 11]


class Pii:
    """Masked values and keyed hashes computed per value; encrypted values from a pre-encrypted pool."""

    def __init__(self, pii_key: str, lookup_key: str, rng: random.Random):
        from cryptography.fernet import Fernet

        fernet = Fernet(pii_key.encode())
        self.key = base64.urlsafe_b64decode(lookup_key)
        self.id_pool = [
            fernet.encrypt(ric_number("110105", date(1980, 1, 1) + timedelta(days=i), i % 1000).encode()).decode()
            for i in range(PII_POOL)
        ]
        self.phone_pool = [fernet.encrypt(f"139{rng.randrange(10**8):08d}".encode()).decode() for _ in range(PII_POOL)]

    def hash(self, kind: str, value: str) -> str:
        """The same value as core.pii.lookup_hash (HMAC-SHA256), through OpenSSL's one-shot digest."""
        return hmac.digest(self.key, f"{kind}:{value}".encode(), "sha256").hex()

    def id_columns(self, number: str, index: int) -> tuple:
        return (self.id_pool[index % PII_POOL], number[:6] + "********" + number[-4:], self.hash("ric", number))

    def phone_columns(self, number: str, index: int) -> tuple:
        return (self.phone_pool[index % PII_POOL], number[:3] + "****" + number[-4:], self.hash("phone", number))


# --- tables and columns ----------------------------------------------------------------------------------------

COLUMNS = {
    "organizations": ("id", "name", "kind", "region_code", "specialties", "active", "created_at", "updated_at"),
    "mediators": (
        "id",
        "name",
        "organization_id",
        "specialties",
        "active",
        "id_number_enc",
        "id_number_masked",
        "id_number_hash",
        "phone_enc",
        "phone_masked",
        "phone_hash",
        "created_at",
        "updated_at",
    ),
    "studios": (
        "id",
        "name",
        "organization_id",
        "lead_mediator_id",
        "named_by_id",
        "named_on",
        "specialties",
        "active",
        "created_at",
        "updated_at",
    ),
    "cases": (
        "id",
        "number",
        "organization_id",
        "studio_id",
        "category_code",
        "source_code",
        "summary",
        "received_on",
        "occurred_region_code",
        "amount_yuan",
        "major",
        "cross_region",
        "status",
        "outcome",
        "accepted_on",
        "due_on",
        "original_due_on",
        "declined_on",
        "decline_reason",
        "last_step_on",
        "concluded_on",
        "agreement_amount_yuan",
        "confirmation_status",
        "confirmation_deadline",
        "follow_up_due_on",
        "version",
        "created_at",
        "updated_at",
    ),
    "parties": (
        "id",
        "case_id",
        "position",
        "role",
        "kind",
        "name",
        "region_code",
        "id_number_enc",
        "id_number_masked",
        "id_number_hash",
        "phone_enc",
        "phone_masked",
        "phone_hash",
    ),
    "case_mediators": ("case_id", "mediator_id", "lead"),
    "case_events": (
        "id",
        "case_id",
        "code",
        "on_date",
        "at",
        "organization_id",
        "region_code",
        "studio_id",
        "actor_name",
        "data",
    ),
    "transfers": (
        "id",
        "case_id",
        "from_organization_id",
        "to_organization_id",
        "agreement_code",
        "mode",
        "status",
        "requested_at",
        "requested_on",
        "respond_by",
        "answered_at",
        "answered_on",
        "reason_code",
        "working_days_to_answer",
        "version",
    ),
    "case_co_organizations": ("case_id", "organization_id", "since", "transfer_id", "created_at"),
    "legal_aid_applications": (
        "id",
        "number",
        "status",
        "centre_id",
        "filed_centre_id",
        "applicant_name",
        "applicant_region_code",
        "matter_category",
        "matter_region_code",
        "hardship",
        "exempt_group",
        "summary",
        "filed_on",
        "received_on",
        "decide_by",
        "accepted_on",
        "decided_on",
        "granted",
        "refusal_reason",
        "assign_by",
        "assigned_on",
        "lawyer_name",
        "closed_on",
        "last_step_on",
        "version",
        "id_number_enc",
        "id_number_masked",
        "id_number_hash",
        "phone_enc",
        "phone_masked",
        "phone_hash",
        "created_at",
        "updated_at",
    ),
    "legal_aid_events": (
        "id",
        "application_id",
        "code",
        "on_date",
        "at",
        "centre_id",
        "region_code",
        "actor_name",
        "data",
    ),
    "legal_aid_handovers": (
        "id",
        "application_id",
        "from_centre_id",
        "to_centre_id",
        "agreement_code",
        "on_date",
        "at",
        "by_name",
    ),
    "case_number_counters": ("organization_id", "year", "last_number"),
}
# Tables in load order (foreign keys first).
LOAD_ORDER = tuple(COLUMNS)
BULK_TABLES = (
    "cases",
    "parties",
    "case_mediators",
    "case_events",
    "transfers",
    "case_co_organizations",
    "legal_aid_applications",
    "legal_aid_events",
    "legal_aid_handovers",
)


def stamp(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


# --- cases -----------------------------------------------------------------------------------------------------


@dataclass
class Spec:
    """What to generate."""

    cases: int
    seed: int = 2026
    start: date = date(2016, 1, 1)
    end: date = date(2025, 12, 31)
    label: str = ""  # appended to organisation and studio names, for a second data set in one database
    cross_share: float = CROSS_REGION_SHARE  # cases with a party in another province (tests raise it: more transfers)


class CaseGenerator:
    """Yields batches {table: [rows]} for ``spec.cases`` cases and their legal-aid applications.

    Rows are tuples of COPY text values (``N`` for NULL, ISO dates, ``t``/``f``), ready for PostgreSQL's
    COPY; ``CoreWriter`` parses them back by column type for other databases."""

    def __init__(
        self,
        spec: Spec,
        world: World,
        cal: WorkCalendar,
        pii: Pii,
        time_limits: dict[str, int],
        *,
        first_case_id: int = 1,
        first_event_id: int = 1,
        first_party_id: int = 1,
        first_transfer_id: int = 1,
        first_application_id: int = 1,
        first_la_event_id: int = 1,
        first_handover_id: int = 1,
    ):
        self.spec, self.world, self.cal, self.pii, self.time_limits = spec, world, cal, pii, time_limits
        self.first = {
            "case": first_case_id,
            "event": first_event_id,
            "party": first_party_id,
            "transfer": first_transfer_id,
            "application": first_application_id,
            "la_event": first_la_event_id,
            "handover": first_handover_id,
        }
        self.counters: dict[tuple[int, int], int] = {}
        self.cross_share = spec.cross_share
        first, last = spec.start.toordinal(), spec.end.toordinal()
        self.days = list(range(first, last + 1))
        # Fewer disputes are registered on rest days.
        self.day_cum = list(itertools.accumulate(1.0 if cal.is_workday(o) else 0.35 for o in self.days))
        self.county_cum = list(itertools.accumulate(world.county_weights))
        self.categories, self.category_cum = _cum(CATEGORY_SHARES)
        self.sources, self.source_cum = _cum(SOURCE_SHARES)
        self.outcomes, self.outcome_cum = _cum(OUTCOME_SHARES)
        self.answers, self.answer_cum = _cum(TRANSFER_ANSWERS)
        span = range(first - 5, cal.last + 1)
        self.iso: dict = {o: date.fromordinal(o).isoformat() for o in span}
        self.iso[None] = N
        self.stamp: dict = {o: f"{self.iso[o]} 02:00:00+00" for o in span}
        self.stamp[None] = N
        self.year = {o: date.fromordinal(o).year for o in span}
        self.end = last
        from mediation_hub.legal_aid.reference import EXEMPT_GROUPS, MATTER_CATEGORIES

        self.matters = list(MATTER_CATEGORIES)
        self.exempt_groups = list(EXEMPT_GROUPS)

    @property
    def chunks(self) -> int:
        return (self.spec.cases + CHUNK - 1) // CHUNK

    def plan(self, chunk: int) -> list[tuple[int, str, str, Org]]:
        """Day, county, category and organisation of each case of a chunk, from the chunk's own stream.

        Cheap enough to run for every chunk up front, which gives each chunk its case-number counters."""
        rng = random.Random(f"{self.spec.seed}:{chunk}:plan")
        size = min(CHUNK, self.spec.cases - chunk * CHUNK)
        days = self.days_of_chunk(rng, chunk, size)
        counties = rng.choices(self.world.counties, cum_weights=self.county_cum, k=size)
        categories = rng.choices(self.categories, cum_weights=self.category_cum, k=size)
        picks = [rng.random() for _ in range(size)]
        mediating, cums = self.world.mediating, self.world.mediating_cum
        return [
            (day, county, category, mediating[county][bisect_left(cums[county], pick * cums[county][-1])])
            for day, county, category, pick in zip(days, counties, categories, picks, strict=True)
        ]

    def days_of_chunk(self, rng: random.Random, chunk: int, size: int) -> list[int]:
        """``size`` days from the chunk's slice of the period, in order: chunk k holds the k-th stretch of time,
        so rows reach the tables in date order as they would in a live system (a year's rows sit together on
        disk, which index scans by date depend on)."""
        total = self.day_cum[-1]
        low, high = chunk / self.chunks * total, (chunk + 1) / self.chunks * total
        positions = sorted(low + rng.random() * (high - low) for _ in range(size))
        return [self.days[min(bisect_left(self.day_cum, p), len(self.days) - 1)] for p in positions]

    def counters_before(self) -> list[dict]:
        """The case-number counters at the start of each chunk (and after the last, for the table)."""
        counters: dict[tuple[int, int], int] = {}
        result = []
        for chunk in range(self.chunks):
            result.append(dict(counters))
            for day, _county, _category, org in self.plan(chunk):
                key = (org.id, self.year[day])
                counters[key] = counters.get(key, 0) + 1
        result.append(counters)
        return result

    def chunk_rows(self, chunk: int, counters: dict) -> dict[str, list[tuple]]:
        """All rows of one chunk; ids come from the chunk's own blocks, so chunks are independent."""
        rng = random.Random(f"{self.spec.seed}:{chunk}")
        offset = chunk * CHUNK
        f = self.first
        self.counters = dict(counters)
        self.case_ids = itertools.count(f["case"] + offset)
        self.party_ids = itertools.count(f["party"] + 2 * offset)
        self.event_ids = itertools.count(f["event"] + EVENTS_PER_CASE * offset)
        self.transfer_ids = itertools.count(f["transfer"] + offset)
        app_block = CHUNK // 10
        self.app_ids = itertools.count(f["application"] + chunk * app_block)
        self.la_event_ids = itertools.count(f["la_event"] + chunk * app_block * 6)
        self.handover_ids = itertools.count(f["handover"] + chunk * app_block)
        rows = {name: [] for name in BULK_TABLES}
        planned = self.plan(chunk)
        for day, county, category, org in planned:
            self._case(rng, day, county, category, org, rows)
        applications = min(app_block, _poisson_count(rng, len(planned) * LEGAL_AID_PER_CASE))
        for filed in self.days_of_chunk(rng, chunk, applications):
            self._application(rng, rows, filed)
        return rows

    def batches(self):
        counters = self.counters_before()
        for chunk in range(self.chunks):
            yield self.chunk_rows(chunk, counters[chunk])
        self.counters = counters[-1]

    def counter_rows(self) -> list[tuple]:
        return [(str(org), str(year), str(last)) for (org, year), last in sorted(self.counters.items())]

    # one case and everything that hangs off it
    def _case(self, rng: random.Random, received: int, county: str, category: str, org: Org, rows: dict) -> None:
        world, cal, iso = self.world, self.cal, self.iso
        studio = world.studios.get(org.id) if org.id in world.studios and rng.random() < STUDIO_SHARE else None
        case_id = next(self.case_ids)
        year = self.year[received]
        seq = self.counters[(org.id, year)] = self.counters.get((org.id, year), 0) + 1
        number = f"MH-{org.region_code}-{org.id}-{year}-{seq:06d}"
        cross = rng.random() < self.cross_share
        other_county = None
        if cross:
            provinces = [p for p in PROVINCES if p != org.province]
            other_county = rng.choice(world.counties_by_province[rng.choice(provinces)])
        occurred = other_county if cross and rng.random() < 0.3 else county
        source = self.sources[bisect_left(self.source_cum, rng.random() * self.source_cum[-1])]
        events: list[tuple] = []  # (code, ordinal, org, studio_id, data)
        handler, handler_studio = org, studio
        status, outcome = "registered", None
        accepted = due = original_due = declined = concluded = None
        events.append(
            (
                "registered",
                received,
                handler,
                handler_studio,
                f'{{"number": "{number}", "cross_region": {"true" if cross else "false"}}}',
            )
        )
        last_step = received
        if rng.random() < DECLINE_SHARE:
            day = received + rng.choice((0, 1, 1, 2))
            if day <= self.end:
                status, declined = "declined", day
                events.append(("declined", day, handler, handler_studio, f'{{"reason": "{DECLINE_REASON}"}}'))
                last_step = day
        else:
            day = received + rng.choices((0, 1, 2, 3), (60, 25, 10, 5))[0]
            if day <= self.end:
                status, accepted, last_step = "accepted", day, day
                due = cal.add_calendar(day, self.time_limits.get(org.kind, 30))
                events.append(("accepted", day, handler, handler_studio, f'{{"due_on": "{iso[due]}"}}'))
                planned = day + min(int(rng.expovariate(1 / 9)) + 1, 120)
                if cross and rng.random() < 0.5:
                    handler, handler_studio, planned = self._transfer(
                        rng, case_id, org, studio, other_county, accepted, planned, events, rows
                    )
                if planned > due and rng.random() < 0.5 and accepted < due - 2 <= self.end:
                    extended_on, old_due = due - 2, due
                    original_due = due
                    due = cal.add_calendar(due, 15)
                    events.append(
                        (
                            "time_limit_extended",
                            extended_on,
                            handler,
                            handler_studio,
                            {"days": 15, "previous_due_on": iso[old_due], "due_on": iso[due]},
                        )
                    )
                if planned <= self.end:
                    status, concluded, last_step = "concluded", planned, planned
                    outcome = self.outcomes[bisect_left(self.outcome_cum, rng.random() * self.outcome_cum[-1])]
                    on_time = "true" if planned <= due else "false"
                    events.append(
                        (
                            "concluded",
                            planned,
                            handler,
                            handler_studio,
                            f'{{"outcome": "{outcome}", "on_time": {on_time}}}',
                        )
                    )
        self._case_row(
            rng,
            rows,
            case_id,
            number,
            handler,
            handler_studio,
            category,
            source,
            received,
            occurred,
            cross,
            status,
            outcome,
            accepted,
            due,
            original_due,
            declined,
            concluded,
            last_step,
            len(events),
        )
        self._parties(rng, rows, case_id, county, other_county if cross else None)
        if accepted is not None:
            mediators = world.mediators[handler.id]
            rows["case_mediators"].append((str(case_id), str(mediators[case_id % len(mediators)]), "t"))
        events.sort(key=lambda e: e[1])
        case_text = str(case_id)
        for code, day, at_org, at_studio, data in events:
            rows["case_events"].append(
                (
                    str(next(self.event_ids)),
                    case_text,
                    code,
                    iso[day],
                    self.stamp[day],
                    str(at_org.id),
                    at_org.region_code,
                    _text(at_studio),
                    ACTOR,
                    data if isinstance(data, str) else json.dumps(data, ensure_ascii=False),
                )
            )

    def _case_row(
        self,
        rng,
        rows,
        case_id,
        number,
        handler,
        studio,
        category,
        source,
        received,
        occurred,
        cross,
        status,
        outcome,
        accepted,
        due,
        original_due,
        declined,
        concluded,
        last_step,
        n_events,
    ) -> None:
        iso = self.iso
        amount = agreement_amount = N
        if category in ("contract", "damages", "traffic", "labour"):
            value = rng.uniform(500, 200_000)
            amount = f"{value:.2f}"
            if outcome == "agreement":
                agreement_amount = f"{value * rng.uniform(0.4, 1.0):.2f}"
        confirmation = iso[self.cal.add_calendar(concluded, 30)] if outcome == "agreement" else N
        rows["cases"].append(
            (
                str(case_id),
                number,
                str(handler.id),
                _text(studio),
                category,
                source,
                SUMMARIES[category],
                iso[received],
                occurred,
                amount,
                "t" if rng.random() < 0.005 else "f",
                "t" if cross else "f",
                status,
                outcome or N,
                iso[accepted],
                iso[due],
                iso[original_due],
                iso[declined],
                DECLINE_REASON if declined else N,
                iso[last_step],
                iso[concluded],
                agreement_amount,
                "none",
                confirmation,
                confirmation,
                str(n_events),
                self.stamp[received],
                self.stamp[last_step],
            )
        )

    def _parties(self, rng, rows, case_id, county, other_county) -> None:
        pii, case_text = self.pii, str(case_id)
        for position, role in enumerate(("applicant", "respondent")):
            party_id = next(self.party_ids)
            region = other_county if (other_county and role == "respondent") else county
            number = ric_number(region, BIRTH_DAYS[rng.randrange(len(BIRTH_DAYS))], party_id % 1000)
            phone = f"13{rng.randrange(10**9):09d}" if rng.random() < 0.8 else None
            rows["parties"].append(
                (
                    str(party_id),
                    case_text,
                    str(position),
                    role,
                    "person",
                    NAMES[rng.getrandbits(12)],
                    region,
                    *pii.id_columns(number, party_id),
                    *(pii.phone_columns(phone, party_id) if phone else (N, N, N)),
                )
            )

    def _transfer(self, rng, case_id, org, studio, other_county, accepted, planned, events, rows):
        """A request to a partner in the other province; returns the handler, studio and conclusion day."""
        cal, iso, stamp_of = self.cal, self.iso, self.stamp
        requested = accepted + rng.randint(1, 3)
        if requested > self.end or requested >= planned:
            return org, studio, planned
        partner = self.world.mediating[other_county][0]
        mode = "transfer" if rng.random() < 0.8 else "joint"
        transfer_id = next(self.transfer_ids)
        respond_by = cal.add_working(requested, 3)
        answer = self.answers[bisect_left(self.answer_cum, rng.random() * self.answer_cum[-1])]
        answered = {
            "accepted": cal.add_working(requested, rng.randint(0, 3)),
            "declined": cal.add_working(requested, rng.randint(0, 3)),
            "expired": respond_by + 1,
            "withdrawn": requested + rng.randint(0, 1),
        }[answer]
        handler = org
        events.append((f"{mode}_requested", requested, org, studio, {"transfer_id": transfer_id}))
        if answered > self.end:
            answer, answered = "pending", None
        else:
            events.append((f"{mode}_{answer}", answered, org, studio, {"transfer_id": transfer_id}))
            if answer == "accepted" and mode == "transfer":
                handler, studio = partner, None
                events.append(
                    (
                        "handling_organization_changed",
                        answered,
                        handler,
                        None,
                        {"transfer_id": transfer_id, "from_organization_id": org.id, "to_organization_id": partner.id},
                    )
                )
            elif answer == "accepted":
                rows["case_co_organizations"].append(
                    (str(case_id), str(partner.id), iso[answered], str(transfer_id), stamp_of[answered])
                )
            if planned < answered:
                planned = answered + rng.randint(1, 15)
        working = cal.working_between(requested, answered) if answer in ("accepted", "declined") else None
        rows["transfers"].append(
            (
                str(transfer_id),
                str(case_id),
                str(org.id),
                str(partner.id),
                "JJJ-MEDIATION",
                mode,
                answer,
                stamp_of[requested],
                iso[requested],
                iso[respond_by],
                stamp_of[answered],
                iso[answered],
                "capacity" if answer == "declined" else N,
                _text(working),
                "2" if answered else "1",
            )
        )
        return handler, studio, planned

    def _application(self, rng: random.Random, rows: dict, filed: int) -> None:
        world, cal, iso, stamp_of = self.world, self.cal, self.iso, self.stamp
        county = rng.choices(world.counties, cum_weights=self.county_cum)[0]
        filed_centre = world.centres[county]
        matter_county = county
        if rng.random() < 0.05:
            provinces = [p for p in PROVINCES if p != filed_centre.province]
            matter_county = rng.choice(world.counties_by_province[rng.choice(provinces)])
        competent = world.centres[matter_county]
        app_id = next(self.app_ids)
        status = "filed"
        received = decide_by = accepted = decided = granted = assign_by = assigned = closed = None
        events = [("filed", filed, filed_centre)]
        last = filed
        if competent is not filed_centre:
            on = filed + rng.randint(0, 2)
            if on <= self.end:
                status, received, last = "transferred", on, on
                decide_by = cal.add_calendar(on, 7)
                events.append(("transferred", on, competent))
                rows["legal_aid_handovers"].append(
                    (
                        str(next(self.handover_ids)),
                        str(app_id),
                        str(filed_centre.id),
                        str(competent.id),
                        "JJJ-LEGAL-AID",
                        iso[on],
                        stamp_of[on],
                        ACTOR,
                    )
                )
        else:
            received, decide_by = filed, cal.add_calendar(filed, 7)
        if received is not None and received + 1 <= self.end:
            status, accepted = "accepted", received + rng.randint(0, 1)
            events.append(("accepted", accepted, competent))
            last = accepted
            day = accepted + rng.choices((1, 2, 3, 4, 5, 6, 8, 10), (10, 20, 20, 15, 15, 10, 6, 4))[0]
            if day <= self.end:
                decided, granted, last = day, rng.random() < 0.9, day
                status = "granted" if granted else "refused"
                events.append((status, day, competent))
                if granted:
                    assign_by = cal.add_calendar(day, 3)
                    day = day + rng.choices((0, 1, 2, 3, 5), (30, 30, 20, 12, 8))[0]
                    if day <= self.end:
                        status, assigned, last = "assigned", day, day
                        events.append(("lawyer_assigned", day, competent))
                        day = day + rng.randint(30, 240)
                        if day <= self.end:
                            status, closed, last = "closed", day, day
                            events.append(("closed", day, competent))
        hardship = rng.choices(("declaration", "proof", "exempt"), (60, 25, 15))[0]
        id_number = ric_number(county, BIRTH_DAYS[rng.randrange(len(BIRTH_DAYS))], app_id % 1000)
        phone = f"13{rng.randrange(10**9):09d}"
        rows["legal_aid_applications"].append(
            (
                str(app_id),
                f"LA{self.year[filed]}-{app_id:06d}",
                status,
                str(competent.id if received is not None else filed_centre.id),
                str(filed_centre.id),
                NAMES[rng.getrandbits(12)],
                county,
                rng.choice(self.matters),
                matter_county,
                hardship,
                rng.choice(self.exempt_groups) if hardship == "exempt" else N,
                "申请法律援助",
                iso[filed],
                iso[received],
                iso[decide_by],
                iso[accepted],
                iso[decided],
                N if granted is None else ("t" if granted else "f"),
                "经审查不符合经济困难标准" if granted is False else N,
                iso[assign_by],
                iso[assigned],
                f"{NAMES[rng.getrandbits(12)]}律师" if assigned else N,
                iso[closed],
                iso[last],
                str(len(events)),
                *self.pii.id_columns(id_number, app_id),
                *self.pii.phone_columns(phone, app_id),
                stamp_of[filed],
                stamp_of[last],
            )
        )
        for code, day, centre in events:
            rows["legal_aid_events"].append(
                (
                    str(next(self.la_event_ids)),
                    str(app_id),
                    code,
                    iso[day],
                    stamp_of[day],
                    str(centre.id),
                    centre.region_code,
                    ACTOR,
                    "{}",
                )
            )


N = "\\N"  # NULL in COPY text format
EVENTS_PER_CASE = 8  # id block per case: a case writes at most 7 events
DECLINE_REASON = "不属于人民调解受理范围"
BIRTH_DAYS = [date(1950, 1, 1) + timedelta(days=i) for i in range(0, 20_000)]


def _text(value) -> str:
    return N if value is None else str(value)


def _cum(shares: dict[str, float]) -> tuple[list[str], list[float]]:
    names = list(shares)
    return names, list(itertools.accumulate(shares[n] for n in names))


def _poisson_count(rng: random.Random, mean: float) -> int:
    """Round ``mean`` up or down at random so the long-run rate is exact."""
    whole = int(mean)
    return whole + (1 if rng.random() < mean - whole else 0)


# --- writers ---------------------------------------------------------------------------------------------------


def copy_text(rows: list[tuple]) -> str:
    return "".join(["\t".join(row) + "\n" for row in rows])


class CopyWriter:
    """PostgreSQL: COPY … FROM STDIN (text format) through psycopg's ``cursor.copy()``."""

    def __init__(self, dbapi_connection):
        self.conn = dbapi_connection

    def write(self, table: str, rows: list[tuple]) -> None:
        if rows:
            self.write_text(table, copy_text(rows))

    def write_text(self, table: str, text: str) -> None:
        if not text:
            return
        columns = COLUMNS[table]
        with self.conn.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            view = text.encode()
            for offset in range(0, len(view), 1 << 20):
                copy.write(view[offset : offset + (1 << 20)])


def _parser(column: sa.Column):
    """Turns a COPY text value back into the Python value the column type binds."""
    kind = column.type.impl if isinstance(column.type, sa.types.TypeDecorator) else column.type
    if isinstance(kind, sa.DateTime):
        return lambda v: datetime.fromisoformat(v + ":00" if v[-3] in "+-" else v)
    if isinstance(kind, sa.Date):
        return date.fromisoformat
    if isinstance(kind, sa.Boolean):
        return lambda v: v == "t"
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Integer | sa.Float):
        from decimal import Decimal

        return Decimal
    if isinstance(kind, sa.Integer):
        return int
    if isinstance(kind, sa.JSON):
        return json.loads
    return str


class CoreWriter:
    """Any database (SQLite in smoke mode and tests): executemany of Core inserts on one connection."""

    def __init__(self, connection):
        self.connection = connection

    def write(self, table: str, rows: list[tuple]) -> None:
        if rows:
            from mediation_hub.extensions import db

            self.connection.execute(db.metadata.tables[table].insert(), self.values(table, rows))

    @staticmethod
    def values(table: str, rows: list[tuple]) -> list[dict]:
        """COPY text rows as dicts of Python values for the table's columns."""
        from mediation_hub.extensions import db

        target = db.metadata.tables[table]
        columns = COLUMNS[table]
        parsers = [_parser(target.c[name]) for name in columns]
        return [
            {name: (None if v == N else parse(v)) for name, parse, v in zip(columns, parsers, row, strict=True)}
            for row in rows
        ]


# --- driver ----------------------------------------------------------------------------------------------------


def load_calendar(session) -> WorkCalendar:
    from mediation_hub.core.calendar import CalendarDay

    return WorkCalendar(dict(session.execute(sa.select(CalendarDay.day, CalendarDay.is_workday)).all()))


def ensure_calendar(session, last_year: int) -> None:
    """Deadlines of the last generated cases fall in the next year: hold it (provisional from the holiday law
    when no notice is loaded), as the hub itself does on demand."""
    from mediation_hub.core.calendar import ensure_years

    ensure_years(last_year, last_year + 1)


def _next_id(session, table: str) -> int:
    from mediation_hub.extensions import db

    column = db.metadata.tables[table].c.id
    return (session.scalar(sa.select(sa.func.max(column))) or 0) + 1


def prepare(session, spec: Spec) -> tuple[World, WorkCalendar, Pii, dict]:
    """Reference data must be loaded; returns the world (ids after existing rows), calendar, PII, limits."""
    from flask import current_app

    from mediation_hub.regions.models import Region

    ensure_calendar(session, spec.end.year)
    regions = session.execute(
        sa.select(Region.code, Region.name, Region.level, Region.parent_code, Region.province_code)
    ).all()
    rows = [(c, n, getattr(lv, "value", lv), p, pr) for c, n, lv, p, pr in regions]
    world = build_world(
        rows,
        spec.seed,
        first_org_id=_next_id(session, "organizations"),
        first_mediator_id=_next_id(session, "mediators"),
        first_studio_id=_next_id(session, "studios"),
        label=spec.label,
    )
    pii = Pii(current_app.config["PII_KEY"], current_app.config["LOOKUP_KEY"], random.Random(f"{spec.seed}:pii"))
    limits = current_app.config.get("CASE_TIME_LIMIT_DAYS") or {}
    time_limits = {o.kind: int(limits.get(o.kind, limits.get("default", 30))) for o in world.orgs}
    return world, load_calendar(session), pii, time_limits


def world_rows(world: World, pii: Pii, day: date) -> dict[str, list[tuple]]:
    now = f"{day.isoformat()} 02:00:00+00"
    orgs = [(str(o.id), o.name, o.kind, o.region_code, "[]", "t", now, now) for o in world.orgs]
    region_of = {o.id: o.region_code for o in world.orgs}
    mediators = []
    for mediator_id, name, org_id, _position in world.mediator_rows:
        born = date(1970, 1, 1) + timedelta(days=mediator_id % 9000)
        number = ric_number(region_of[org_id], born, mediator_id % 1000)
        phone = f"138{mediator_id:08d}"
        mediators.append(
            (
                str(mediator_id),
                name,
                str(org_id),
                "[]",
                "t",
                *pii.id_columns(number, mediator_id),
                *pii.phone_columns(phone, mediator_id),
                now,
                now,
            )
        )
    studios = [
        (str(sid), name, str(host), str(lead), str(bureau), day.isoformat(), "[]", "t", now, now)
        for sid, name, host, lead, bureau in world.studio_rows
    ]
    return {"organizations": orgs, "mediators": mediators, "studios": studios}


def generate(session, spec: Spec, writer, *, progress=None, workers: int = 0) -> dict:
    """Write the whole data set through ``writer``; returns row counts per table (caller commits).

    ``workers`` > 0 (PostgreSQL COPY only): chunks are generated by that many forked processes while this one
    feeds COPY; the rows are the same as with none, chunk by chunk."""
    world, cal, pii, limits = prepare(session, spec)
    counts: dict[str, int] = {}
    for table, rows in world_rows(world, pii, spec.start).items():
        writer.write(table, rows)
        counts[table] = len(rows)
    generator = CaseGenerator(
        spec,
        world,
        cal,
        pii,
        limits,
        first_case_id=_next_id(session, "cases"),
        first_event_id=_next_id(session, "case_events"),
        first_party_id=_next_id(session, "parties"),
        first_transfer_id=_next_id(session, "transfers"),
        first_application_id=_next_id(session, "legal_aid_applications"),
        first_la_event_id=_next_id(session, "legal_aid_events"),
        first_handover_id=_next_id(session, "legal_aid_handovers"),
    )
    counters = generator.counters_before()
    if workers and isinstance(writer, CopyWriter):
        batches = _forked_batches(generator, counters, workers)
    else:
        batches = (
            {table: (None, rows) for table, rows in generator.chunk_rows(chunk, counters[chunk]).items()}
            for chunk in range(generator.chunks)
        )
    for batch in batches:
        for table in BULK_TABLES:
            text, rows = batch[table]
            if text is not None:
                writer.write_text(table, text)
                counts[table] = counts.get(table, 0) + text.count("\n")
            else:
                writer.write(table, rows)
                counts[table] = counts.get(table, 0) + len(rows)
        if progress:
            progress(counts["cases"], spec.cases)
    generator.counters = counters[-1]
    writer.write("case_number_counters", generator.counter_rows())
    counts["case_number_counters"] = len(generator.counters)
    return counts


def _forked_batches(generator: CaseGenerator, counters: list[dict], workers: int):
    """Chunks generated by ``workers`` forked processes (chunk k by worker k mod n), yielded in chunk order
    as COPY text."""
    import multiprocessing
    import os
    import traceback

    context = multiprocessing.get_context("fork")
    queues = [context.Queue(maxsize=2) for _ in range(workers)]

    def child(worker: int):
        queue = queues[worker]
        try:
            for chunk in range(worker, generator.chunks, workers):
                rows = generator.chunk_rows(chunk, counters[chunk])
                queue.put(("batch", {table: copy_text(table_rows) for table, table_rows in rows.items()}))
        except BaseException:
            queue.put(("error", traceback.format_exc()))
        queue.close()
        queue.join_thread()
        os._exit(0)  # no finalizers: the inherited database connection belongs to the parent

    processes = [context.Process(target=child, args=(w,), daemon=True) for w in range(workers)]
    for process in processes:
        process.start()
    try:
        for chunk in range(generator.chunks):
            kind, payload = queues[chunk % workers].get()
            if kind != "batch":
                raise RuntimeError("generator process failed:\n" + payload)
            yield {table: (text, None) for table, text in payload.items()}
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()


def digest_rows(spec: Spec, region_rows: list[tuple], workdays: dict[date, bool], keys: dict) -> str:
    """A hash of everything the generator would write (for the determinism test), without a database."""
    world = build_world(region_rows, spec.seed)
    pii = Pii(keys["PII_KEY"], keys["LOOKUP_KEY"], random.Random(f"{spec.seed}:pii"))
    generator = CaseGenerator(spec, world, WorkCalendar(workdays), pii, {})
    h = hashlib.sha256()
    for batch in generator.batches():
        for table in BULK_TABLES:
            for row in batch[table]:
                # encrypted values are random per run (Fernet IVs): leave them out of the hash
                h.update(repr([v for v in row if not (isinstance(v, str) and v.startswith("gAAAA"))]).encode())
    return h.hexdigest()


# --- PostgreSQL bulk-load helpers ------------------------------------------------------------------------------


def _secondary(table: sa.Table):
    indexes = list(table.indexes)
    constraints = [c for c in table.constraints if isinstance(c, sa.ForeignKeyConstraint | sa.UniqueConstraint)]
    return indexes, constraints


def drop_secondary(connection, tables) -> None:
    """Before COPY: drop indexes, foreign keys and unique constraints of the bulk tables (rebuilt after)."""
    from mediation_hub.extensions import db

    for name in tables:
        table = db.metadata.tables[name]
        indexes, constraints = _secondary(table)
        for constraint in constraints:
            connection.execute(sa.text(f'ALTER TABLE {name} DROP CONSTRAINT IF EXISTS "{constraint.name}"'))
        for index in indexes:
            connection.execute(sa.text(f'DROP INDEX IF EXISTS "{index.name}"'))


def create_secondary(connection, tables, log=print) -> None:
    from mediation_hub.extensions import db

    connection.execute(sa.text("SET maintenance_work_mem = '1GB'"))
    existing = set(
        connection.execute(
            sa.text(
                "SELECT conname FROM pg_constraint UNION SELECT indexname FROM "
                "pg_indexes WHERE schemaname = current_schema()"
            )
        ).scalars()
    )
    for name in tables:
        table = db.metadata.tables[name]
        indexes, constraints = _secondary(table)
        uniques = [c for c in constraints if isinstance(c, sa.UniqueConstraint)]
        foreign = [c for c in constraints if isinstance(c, sa.ForeignKeyConstraint)]
        for item in [*uniques, *indexes, *foreign]:
            if item.name in existing:
                continue
            started = time.perf_counter()
            if isinstance(item, sa.Index):
                item.create(connection)
            else:
                connection.execute(sa.schema.AddConstraint(item))
            log(f"  {item.name}: {time.perf_counter() - started:.0f} s")


def reset_sequences(connection, tables) -> None:
    from mediation_hub.extensions import db

    for name in tables:
        table = db.metadata.tables[name]
        if "id" in table.c and table.c.id.primary_key:
            connection.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE((SELECT max(id) FROM {name}), 1))"
                )
            )


# --- command line ----------------------------------------------------------------------------------------------


def setup_database(app) -> None:
    """Schema from the models (the aggregate tables have no migration yet) and the reference data."""
    from mediation_hub.extensions import db
    from mediation_hub.seed import seed_reference

    with app.app_context():
        db.create_all()
        seed_reference()
        db.session.commit()


def run(database_url: str, spec: Spec, *, fast_load: bool = True, workers: int = 2, log=print) -> dict:
    """Create the schema, generate, then ``finish`` (indexes, aggregates, analyse); returns timings and counts."""
    from bench.common import bench_app
    from mediation_hub.extensions import db

    app = bench_app(database_url)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    setup_database(app)
    postgres = database_url.startswith("postgresql")
    with app.app_context():
        connection = db.session.connection()
        if postgres:
            connection.execute(sa.text("SET synchronous_commit = off"))
            if fast_load:
                drop_secondary(connection, BULK_TABLES)
            writer = CopyWriter(connection.connection.driver_connection)
        else:
            writer = CoreWriter(connection)
        t0 = time.perf_counter()

        def progress(done, total):
            if done % 200_000 == 0 or done == total:
                rate = done / (time.perf_counter() - t0)
                log(f"  {done:,}/{total:,} cases ({rate:,.0f}/s)")

        counts = generate(db.session, spec, writer, progress=progress, workers=workers if postgres else 0)
        db.session.commit()
        timings["generate_and_load_s"] = time.perf_counter() - t0
    result = finish(app, postgres=postgres, indexes=fast_load, log=log)
    counts.update(result["counts"])
    timings.update(result["timings"])
    timings["total_s"] = time.perf_counter() - started
    return {"counts": counts, "timings": timings}


def finish(app, *, postgres: bool, indexes: bool = True, log=print) -> dict:
    """After the rows are in: indexes and constraints (PostgreSQL fast load), sequences, the rate aggregates
    (full rebuild), VACUUM ANALYZE. Each step commits, so a later failure keeps the earlier ones."""
    from mediation_hub.extensions import db
    from mediation_hub.reporting.aggregates import rebuild_daily_stats
    from mediation_hub.reporting.flow_aggregates import rebuild_flow_stats

    timings: dict[str, float] = {}
    with app.app_context():
        if postgres:
            t1 = time.perf_counter()
            if indexes:
                log("indexes and constraints:")
                for name in BULK_TABLES:  # one transaction per table
                    create_secondary(db.session.connection(), [name], log)
                    db.session.commit()
            reset_sequences(db.session.connection(), LOAD_ORDER)
            db.session.commit()
            timings["indexes_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        if postgres:
            db.session.execute(sa.text("SET work_mem = '256MB'"))
        counts = rebuild_daily_stats()
        counts.update(rebuild_flow_stats())
        db.session.commit()
        timings["aggregates_s"] = time.perf_counter() - t2
        log(f"aggregates: {counts} in {timings['aggregates_s']:.0f} s")
        if postgres:
            t3 = time.perf_counter()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))
            timings["vacuum_analyze_s"] = time.perf_counter() - t3
    return {"counts": counts, "timings": timings}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="target database (default: a temporary SQLite file)")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--start", type=date.fromisoformat, default=None)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 12, 31))
    parser.add_argument("--smoke", action="store_true", help="1,000 cases, one year, SQLite unless a URL is given")
    parser.add_argument("--keep-indexes", action="store_true", help="PostgreSQL: load with indexes in place")
    parser.add_argument("--workers", type=int, default=2, help="PostgreSQL: generator processes feeding COPY")
    parser.add_argument(
        "--finish-only",
        action="store_true",
        help="the rows are already loaded: only build indexes, aggregates and statistics",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.cases = min(args.cases, 1000)
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='mh-bench-')) / 'bench.db'}"
    years = max(1, min(10, round(args.cases / 1_000_000))) if not args.smoke else 1
    start = args.start or date(args.end.year - years + 1, 1, 1)
    spec = Spec(cases=args.cases, seed=args.seed, start=start, end=args.end)
    if args.finish_only:
        from bench.common import bench_app

        started = time.perf_counter()
        result = finish(bench_app(url), postgres=url.startswith("postgresql"), indexes=not args.keep_indexes)
        result["timings"]["total_s"] = time.perf_counter() - started
        for name, seconds in result["timings"].items():
            print(f"  {name:<26} {seconds:>12.1f}")
        return 0
    print(f"generating {spec.cases:,} cases {spec.start}..{spec.end} seed {spec.seed} into {url}")
    result = run(url, spec, fast_load=not args.keep_indexes, workers=args.workers)
    for table, count in result["counts"].items():
        print(f"  {table:<26} {count:>12,}")
    for name, seconds in result["timings"].items():
        print(f"  {name:<26} {seconds:>12.1f}")
    print(f"cases per second (generate+load): {spec.cases / result['timings']['generate_and_load_s']:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
