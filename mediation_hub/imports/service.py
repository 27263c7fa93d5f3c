"""Importing historical cases from a csv or xlsx file: ``import_file`` is the one entry point.

A file is read row by row (``readers``) and handled in batches: each row is checked with the cases service's
own rules (``CaseIn`` for the shape, ``check_case_data`` for the content, ``step_date``/``check_conclusion``/
``case_due_on`` for its history), the good rows of a batch are inserted with a few bulk INSERTs (cases,
parties, events) and committed together. A row is all or nothing: a row that fails is reported and nothing of
it is written; when the database refuses a batch, the batch is retried row by row so the good rows still go
in. Rows already imported (same organisation, source system and source number) are skipped, so a file can be
imported again after an interruption.

Unlike the other services this function is a unit-of-work boundary of its own (like a scheduled job): it
commits after every batch. Call it with no pending changes in the session."""

from __future__ import annotations

import csv
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..cases.events import event_values
from ..cases.models import Case, CaseCategory, CaseEvent, CaseSource, CaseStatus, Outcome, Party, PartyKind
from ..cases.numbering import format_number, next_sequence
from ..cases.rules import case_due_on, confirmation_deadline, follow_up_due, step_date, time_limit_days
from ..cases.schemas import CaseIn
from ..cases.service import case_columns, check_case_data, check_conclusion, handling_organization_problem
from ..core.actor import Actor, Role
from ..core.export import safe_cell
from ..core.modules import import_optional
from ..core.shanghai import today_shanghai
from ..errors import PermissionDenied, ValidationFailed, collect
from ..extensions import db
from ..regions.models import Region
from ..registry.models import Organization
from ..registry.service import organization_scope
from . import layout
from .layout import cell_text, column_label, parse_amount, parse_date, parse_party_kind, parse_status, parse_yes_no
from .readers import UnusableFile, open_sheet

log = logging.getLogger("mediation_hub.imports")

DEFAULT_SOURCE_SYSTEM = "legacy"
DEFAULT_BATCH_SIZE = 500
KEPT_FAILURES = 100  # failures kept in the summary itself; the error report file has them all
IMPORT_ROLES = (Role.admin, Role.registry_admin, Role.mediator)
ERROR_REPORT_HEADER = ("行号", "原系统案号", "字段", "原因")
REQUIRED = "必填项为空 (required)"
SOURCE_NUMBER_MAX = 60  # Case.source_number
SOURCE_SYSTEM_MAX = 40
SIDES = ("applicant", "respondent")
MAX_PINNED_REGIONS = 20_000  # more than every division down to towns; codes a file invents are not kept forever

# Which history columns belong to which state; a value in any other is an error (it would be lost).
HISTORY_COLUMNS = ("accepted_on", "concluded_on", "outcome", "agreement_amount_yuan", "terms", "declined_on",
                   "decline_reason")
STATUS_COLUMNS = {
    CaseStatus.registered: set(),
    CaseStatus.accepted: {"accepted_on"},
    CaseStatus.in_mediation: {"accepted_on"},
    CaseStatus.concluded: {"accepted_on", "concluded_on", "outcome", "agreement_amount_yuan", "terms"},
    CaseStatus.declined: {"declined_on", "decline_reason"},
}
STATUS_NAMES = {CaseStatus.registered: "登记", CaseStatus.accepted: "受理", CaseStatus.in_mediation: "调解中",
                CaseStatus.concluded: "办结", CaseStatus.declined: "不予受理"}


@dataclass(frozen=True)
class RowFailure:
    """One reason a row was not imported: its number in the sheet (header = 1), its source number, the
    column at fault (its header) and the reason."""

    row: int
    source_number: str
    column: str
    reason: str


@dataclass(frozen=True)
class ImportProgress:
    processed_rows: int
    fraction: float  # share of the file read, 0..1
    imported: int
    skipped: int
    failed: int


@dataclass
class ImportSummary:
    """What an import did. ``failures`` holds the first ``KEPT_FAILURES`` reasons; the error report file
    (``errors_path``) every one."""

    filename: str
    organization_id: int
    source_system: str
    run: str
    total: int = 0
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[RowFailure] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    errors_path: Path | None = None
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {"total": self.total, "imported": self.imported, "skipped": self.skipped, "failed": self.failed,
                "seconds": round(self.seconds, 3), "rows_per_second": round(self.rows_per_second, 1),
                "ignored_columns": self.ignored_columns}


class RowInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("row invalid")
        self.errors = errors


@dataclass
class PreparedCase:
    """A checked row, ready to insert: the case's columns (its number comes at insert), its parties and the
    events that tell its history."""

    row: int
    source_number: str
    case: dict
    parties: list[dict]
    events: list[tuple[str, date, dict]]


# --- who may import into which organisation ---------------------------------------------------------------

def import_organization(actor: Actor, organization_id: int | None) -> Organization:
    """The organisation the actor may import cases into: any for administrators, those of their region for
    registry administrators, their own for mediators; it must be an active mediation organisation."""
    if not (actor.is_system or actor.role in IMPORT_ROLES):
        raise PermissionDenied("只有管理员、登记管理员和调解组织工作人员可以导入案件 (you may not import cases)")
    org = db.session.get(Organization, organization_id) if organization_id else None
    if org is None:
        raise ValidationFailed({"organization_id": ["请选择承办组织 (an existing organisation is required)"]})
    if actor.role == Role.mediator and org.id != actor.organization_id:
        raise ValidationFailed({"organization_id": ["只能为本组织导入案件 (you import into your own organisation)"]})
    if not db.session.scalar(sa.select(sa.exists().where(Organization.id == org.id, organization_scope(actor)))):
        raise ValidationFailed({"organization_id": ["该组织不在您的管辖范围内 (outside your region)"]})
    problem = handling_organization_problem(org)
    if problem:
        raise ValidationFailed({"organization_id": [problem]})
    return org


def check_source_system(source_system: str | None) -> str:
    source_system = (source_system or "").strip() or DEFAULT_SOURCE_SYSTEM
    if len(source_system) > SOURCE_SYSTEM_MAX:
        raise ValidationFailed({"source_system": [f"来源系统名称不超过 {SOURCE_SYSTEM_MAX} 个字符"]})
    return source_system


def check_header(path: str | Path) -> layout.HeaderMap:
    """Open the file and check its header; UnusableFile names the missing (or repeated) columns."""
    with open_sheet(path) as reader:
        return _checked_header(reader.header)


def _checked_header(header: list) -> layout.HeaderMap:
    mapped = layout.map_header(header)
    problems = []
    if mapped.missing:
        problems.append("缺少必需的列: " + "、".join(mapped.missing))
    if mapped.duplicated:
        problems.append("列重复: " + "、".join(mapped.duplicated))
    if problems:
        raise UnusableFile("；".join(problems) + " (the header does not match the import layout; see docs/IMPORT.md)")
    return mapped


# --- the entry point ----------------------------------------------------------------------------------------

def import_file(path: str | Path, organization_id: int, actor: Actor, *, source_system: str = DEFAULT_SOURCE_SYSTEM,
                on_progress: Callable[[ImportProgress], None] | None = None, errors_path: str | Path | None = None,
                batch_size: int = DEFAULT_BATCH_SIZE, run: str | None = None,
                filename: str | None = None) -> ImportSummary:
    """Import the cases of a csv or xlsx file into an organisation; return the summary.

    Raises before anything is written when the actor may not import into the organisation (403/422) or the
    file cannot be used (``UnusableFile``: wrong type, encoding, or header — the missing columns are named).
    Afterwards every row is counted as imported, skipped (already imported earlier) or failed (with its
    reasons in the error report csv ``errors_path``: 行号, 原系统案号, 字段, 原因). ``on_progress`` is called
    after every batch. Commits after every batch (see the module's docstring)."""
    started = time.monotonic()
    org = import_organization(actor, organization_id)
    source_system = check_source_system(source_system)
    with open_sheet(path) as reader:
        mapped = _checked_header(reader.header)
        summary = ImportSummary(filename=filename or Path(path).name, organization_id=org.id,
                                source_system=source_system, run=run or uuid.uuid4().hex,
                                ignored_columns=mapped.ignored, errors_path=Path(errors_path) if errors_path else None)
        with _ErrorReport(summary) as report, _reference_data_pinned():
            importer = _Importer(org, actor, summary, report, mapped.positions)
            db.session.commit()  # the checks above read only; start each batch with a clean transaction
            try:
                for batch in _batches(reader.rows(), batch_size):
                    importer.run_batch(batch)
                    if on_progress is not None:
                        on_progress(ImportProgress(summary.total, reader.position(), summary.imported,
                                                   summary.skipped, summary.failed))
            finally:
                importer.refresh_report_aggregates()
    summary.seconds = time.monotonic() - started
    log.info("import %s into organisation %s: %s", summary.filename, org.id, summary.as_dict())
    return summary


@contextmanager
def _reference_data_pinned():
    """Keep the reference rows the checks look up loaded for the whole import.

    The row checks look each code up with ``session.get``; the identity map holds objects only weakly and a
    commit expires them, so without this every row would query the reference tables again. Categories and
    sources are pinned at once, regions as rows name them (``_Importer.pin_regions``); none of this depends on
    the size of the file, and reference data does not change during an import."""
    session = db.session()
    pinned = [db.session.scalars(sa.select(model)).all() for model in (CaseCategory, CaseSource)]
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield pinned
    finally:
        session.expire_on_commit = expire_on_commit


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _ErrorReport:
    """The csv of failed rows, written as they fail (UTF-8 with a BOM, so Excel shows the Chinese)."""

    def __init__(self, summary: ImportSummary):
        self.summary = summary
        self._file = self._writer = None

    def __enter__(self):
        if self.summary.errors_path is not None:
            self.summary.errors_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.summary.errors_path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._file)
            self._writer.writerow(ERROR_REPORT_HEADER)
        return self

    def add(self, failure: RowFailure) -> None:
        if len(self.summary.failures) < KEPT_FAILURES:
            self.summary.failures.append(failure)
        if self._writer is not None:
            self._writer.writerow([failure.row, safe_cell(failure.source_number), failure.column,
                                   safe_cell(failure.reason)])

    def __exit__(self, *exc):
        if self._file is not None:
            self._file.close()


# --- one batch -------------------------------------------------------------------------------------------------

class _Importer:
    def __init__(self, org: Organization, actor: Actor, summary: ImportSummary, report: _ErrorReport,
                 positions: dict[str, int]):
        self.org_id, self.org_region, self.org_kind = org.id, org.region_code, org.kind
        self.org_ref = _OrgRef(org.id, org.region_code)
        self.actor, self.summary, self.report, self.positions = actor, summary, report, positions
        self.today = today_shanghai()
        self.categories = _code_index(CaseCategory)
        self.sources = _code_index(CaseSource)
        self.schema = CaseIn()
        self.regions: dict[str, Region | None] = {}  # strong references: see _reference_data_pinned
        self._dates: dict[tuple, date | ValidationFailed] = {}
        self.first_day: date | None = None  # the span of the rate events written, for the report aggregates
        self.last_day: date | None = None

    # bookkeeping

    def fail(self, row: int, source_number: str, errors: dict[str, list[str]]) -> None:
        self.summary.failed += 1
        for name, messages in errors.items():
            for message in messages:
                self.report.add(RowFailure(row, source_number, column_label(name), message))

    def run_batch(self, batch: list[tuple[int, tuple]]) -> None:
        rows = [(number, self._values(cells)) for number, cells in batch]
        self.summary.total += len(rows)
        numbers = [cell_text(values.get("source_number")) for _, values in rows]
        earlier = self._already_imported({n for n in numbers if n})
        prepared: list[PreparedCase] = []
        claimed: dict[str, int] = {}
        for (row, values), source_number in zip(rows, numbers, strict=True):
            problem = self._source_number_problem(source_number, earlier, claimed)
            if problem == "skip":
                self.summary.skipped += 1
                continue
            if problem:
                self.fail(row, source_number, {"source_number": [problem]})
                continue
            try:
                prepared.append(self.prepare(row, source_number, values))
            except RowInvalid as exc:
                self.fail(row, source_number, exc.errors)
                continue
            except Exception:  # a cell nobody foresaw must not stop the other rows
                log.exception("import row %s could not be handled", row)
                self.fail(row, source_number, {"file": ["无法处理此行 (this row could not be processed)"]})
                continue
            claimed[source_number] = row
        if prepared:
            self._store(prepared)

    def _values(self, cells: tuple) -> dict:
        return {key: cells[index] if index < len(cells) else None for key, index in self.positions.items()}

    def _already_imported(self, numbers: set[str]) -> dict[str, tuple[str | None, int | None]]:
        """Source numbers of this batch already in the database: {number: (run that imported it, its row)}."""
        if not numbers:
            return {}
        found = dict(db.session.execute(sa.select(Case.id, Case.source_number).where(
            Case.organization_id == self.org_id, Case.source_system == self.summary.source_system,
            Case.source_number.in_(numbers))).all())
        if not found:
            return {}
        origin = {case_id: (data or {}) for case_id, data in db.session.execute(
            sa.select(CaseEvent.case_id, CaseEvent.data).where(CaseEvent.case_id.in_(list(found)),
                                                               CaseEvent.code == "imported"))}
        return {number: (origin.get(case_id, {}).get("run"), origin.get(case_id, {}).get("row"))
                for case_id, number in found.items()}

    def _source_number_problem(self, number: str, earlier: dict, claimed: dict) -> str | None:
        if not number:
            return REQUIRED
        if len(number) > SOURCE_NUMBER_MAX:
            return f"原系统案号不超过 {SOURCE_NUMBER_MAX} 个字符 (too long)"
        if number in claimed:
            return f"与第 {claimed[number]} 行的原系统案号重复 (duplicate source number in this file)"
        if number in earlier:
            run, first_row = earlier[number]
            if run == self.summary.run:
                return f"与第 {first_row} 行的原系统案号重复 (duplicate source number in this file)"
            return "skip"
        return None

    # checking one row

    def prepare(self, row: int, source_number: str, values: dict) -> PreparedCase:
        """Check one row completely; RowInvalid lists every failure, keyed by API field or column."""
        errors: dict[str, list[str]] = {}
        payload = self._payload(values, errors)
        self.pin_regions(payload)
        try:
            data = self.schema.load(payload)
        except ValidationError as exc:
            _merge(errors, _flatten(exc.messages))
            raise RowInvalid(errors) from None
        rule_errors: dict[str, list[str]] = {}
        data = check_case_data(data, _OrgForRules(self.org_id), rule_errors)
        status = self._parse(values, "status", parse_status, errors)
        history = self._history(status, values, data.get("received_on"), rule_errors) if status else None
        _merge(errors, rule_errors)
        if errors:
            raise RowInvalid(errors)
        data.update(source_system=self.summary.source_system, source_number=source_number)
        return self._prepared(row, source_number, data, status, history)

    def pin_regions(self, payload: dict) -> None:
        """Hold the regions a row names, so the rules' look-ups find them in the session."""
        codes = [payload.get("occurred_region_code"), *(p.get("region_code") for p in payload["parties"])]
        for code in codes:
            if code and code not in self.regions and len(self.regions) < MAX_PINNED_REGIONS:
                self.regions[code] = db.session.get(Region, code)

    def _parse(self, values: dict, key: str, parse, errors: dict):
        try:
            return parse(values.get(key))
        except ValueError as exc:
            collect(errors, key, str(exc))
            return None

    def _payload(self, values: dict, errors: dict) -> dict:
        """The row in the API's shape (CaseIn), with spreadsheet conventions turned into API values."""
        payload: dict = {"organization_id": self.org_id}
        for key in ("category", "source", "summary", "occurred_region_code"):
            text = cell_text(values.get(key))
            if not text:
                collect(errors, key, REQUIRED)
                continue
            index = {"category": self.categories, "source": self.sources}.get(key)
            payload[key] = index.get(layout.label_key(text), text) if index else text
        received_on = self._parse(values, "received_on", parse_date, errors)
        if received_on is None and "received_on" not in errors:
            collect(errors, "received_on", REQUIRED)
        elif received_on is not None:
            payload["received_on"] = received_on.isoformat()
        amount = parse_amount(values.get("amount_yuan"))
        if amount is not None:
            payload["amount_yuan"] = amount
        major = self._parse(values, "major", parse_yes_no, errors)
        if major is not None:
            payload["major"] = major
        payload["parties"] = [self._party(side, values, errors) for side in SIDES]
        return payload

    def _party(self, side: str, values: dict, errors: dict) -> dict:
        kind = self._parse(values, f"{side}_kind", parse_party_kind, errors) or PartyKind.person
        party = {"role": side, "kind": kind.value, "name": cell_text(values.get(f"{side}_name"))}
        if not party["name"]:
            collect(errors, f"{side}_name", REQUIRED)
        number = cell_text(values.get(f"{side}_id_number"))
        if number:
            party["id_number" if kind == PartyKind.person else "uscc"] = number
        for key in ("phone", "region_code"):
            text = cell_text(values.get(f"{side}_{key}"))
            if text:
                party[key] = text
        return party

    def _history(self, status: CaseStatus, values: dict, received_on: date | None, errors: dict) -> dict:
        """The dates and outcome of a case that is past registration, checked with the transitions' rules:
        no step in the future nor before the previous one, outcome fields as ``conclude_case`` allows, the
        time limit from the same calendar (a year it does not cover fails the row)."""
        for key in HISTORY_COLUMNS:
            if key not in STATUS_COLUMNS[status] and cell_text(values.get(key)):
                collect(errors, key, f"状态为「{STATUS_NAMES[status]}」时不填写此项 (only for another status)")
        history: dict = {}
        if received_on is None:
            return history
        if status in (CaseStatus.accepted, CaseStatus.in_mediation, CaseStatus.concluded):
            accepted_on = self._step(values, "accepted_on", received_on, received_on, errors)
            history["accepted_on"] = accepted_on
            if accepted_on is not None:
                history["due_on"] = self._calendar(case_due_on, accepted_on, self.org_kind, errors=errors)
        if status == CaseStatus.concluded:
            self._conclusion(values, history, errors)
        if status == CaseStatus.declined:
            history["declined_on"] = self._step(values, "declined_on", received_on, received_on, errors)
            history["reason"] = cell_text(values.get("decline_reason"))
            if not history["reason"]:
                collect(errors, "decline_reason", "请填写不予受理的理由 (a reason is required)")
        return history

    def _conclusion(self, values: dict, history: dict, errors: dict) -> None:
        accepted_on = history.get("accepted_on")
        concluded_on = self._step(values, "concluded_on", None, accepted_on, errors)
        if concluded_on is None and "concluded_on" not in errors:
            collect(errors, "concluded_on", "办结的案件须填写办结日期 (the conclusion date is required)")
        outcome = layout.parse_outcome(values.get("outcome"))
        if outcome is None:
            collect(errors, "outcome", "办结的案件须填写调解结果 (the outcome is required)")
            return
        outcome, amount = check_conclusion(outcome, parse_amount(values.get("agreement_amount_yuan")),
                                           cell_text(values.get("terms")) or None, None, errors)
        history.update(concluded_on=concluded_on, outcome=outcome, agreement_amount_yuan=amount,
                       terms=cell_text(values.get("terms")) or None)
        if outcome == Outcome.agreement and concluded_on is not None:
            history["confirmation_deadline"] = self._calendar(confirmation_deadline, concluded_on, errors=errors)
            history["follow_up_due_on"] = self._calendar(follow_up_due, concluded_on, errors=errors)

    def _step(self, values: dict, key: str, default: date | None, not_before: date | None, errors: dict):
        day = self._parse(values, key, parse_date, errors)
        if key in errors:
            return None
        day = day or default
        if day is None:
            return None
        try:
            return step_date(day, key, not_before=not_before, today=self.today)
        except ValidationFailed as exc:
            _merge(errors, exc.errors)
            return None

    def _calendar(self, rule, day: date, *args, errors: dict) -> date | None:
        """A deadline from the calendar rules, remembered per date (an import meets each date many times)."""
        key = (rule.__name__, day, *args)
        if key not in self._dates:
            try:
                self._dates[key] = rule(day, *args)
            except ValidationFailed as exc:
                self._dates[key] = exc
        found = self._dates[key]
        if isinstance(found, ValidationFailed):
            _merge(errors, found.errors)
            return None
        return found

    def _prepared(self, row: int, source_number: str, data: dict, status: CaseStatus, history: dict) -> PreparedCase:
        case = case_columns(self.actor, _OrgForRules(self.org_id), data)
        received_on = case["received_on"]
        outcome = history.get("outcome")
        follow_up = history.get("follow_up_due_on")
        case.update(
            status=status, outcome=outcome, accepted_on=history.get("accepted_on"), due_on=history.get("due_on"),
            declined_on=history.get("declined_on"), decline_reason=history.get("reason"),
            concluded_on=history.get("concluded_on"), agreement_amount_yuan=history.get("agreement_amount_yuan"),
            agreement_terms=history.get("terms"), confirmation_deadline=history.get("confirmation_deadline"),
            # a follow-up date already past at import is history nobody can act on: no reminder for it
            follow_up_due_on=follow_up if follow_up is not None and follow_up >= self.today else None,
            version=1)
        steps = [d for d in (received_on, case["accepted_on"], case["declined_on"], case["concluded_on"]) if d]
        case["last_step_on"] = max(steps)
        parties = [_party_columns(i, p) for i, p in enumerate(data["parties"])]
        return PreparedCase(row, source_number, case, parties, self._events(row, source_number, case))

    def _events(self, row: int, source_number: str, case: dict) -> list[tuple[str, date, dict]]:
        """The events a report counts, on the dates of the file, and the ``imported`` record of this run."""
        events = [("registered", case["received_on"], {"cross_region": case["cross_region"],
                                                         "possible_duplicates": [], "imported": True})]
        if case["accepted_on"] is not None:
            events.append(("accepted", case["accepted_on"], {
                "due_on": case["due_on"].isoformat(), "time_limit_days": time_limit_days(self.org_kind),
                "mediator_id": None}))
        if case["declined_on"] is not None:
            events.append(("declined", case["declined_on"], {"reason": case["decline_reason"]}))
        if case["concluded_on"] is not None:
            data = {"outcome": case["outcome"].value, "on_time": case["concluded_on"] <= case["due_on"]}
            if case["outcome"] == Outcome.agreement:
                amount = case["agreement_amount_yuan"]
                data.update(confirmation_deadline=case["confirmation_deadline"].isoformat(),
                            agreement_amount_yuan=str(amount) if amount is not None else None)
            events.append(("concluded", case["concluded_on"], data))
        events.append(("imported", self.today, {
            "run": self.summary.run, "row": row, "file": self.summary.filename,
            "source_system": self.summary.source_system, "source_number": source_number,
            "status": case["status"].value}))
        return events

    # writing

    def _store(self, prepared: list[PreparedCase]) -> None:
        try:
            self._insert(prepared)
            db.session.commit()
            self._written(prepared)
            return
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("import batch refused by the database; retrying its %s rows one by one", len(prepared),
                        exc_info=True)
        for item in prepared:
            self._store_one(item)

    def _store_one(self, item: PreparedCase) -> None:
        try:
            self._insert([item])
            db.session.commit()
            self._written([item])
        except IntegrityError as exc:
            db.session.rollback()
            if self._already_imported({item.source_number}):  # imported meanwhile by a concurrent run
                self.summary.skipped += 1
                return
            self.fail(item.row, item.source_number, {"file": [f"数据库拒绝写入 (refused by the database: "
                                                              f"{type(exc.orig).__name__})"]})
        except SQLAlchemyError as exc:
            db.session.rollback()
            log.exception("import row %s refused by the database", item.row)
            self.fail(item.row, item.source_number, {"file": [f"数据库错误 (database error: {type(exc).__name__})"]})

    def _written(self, items: list[PreparedCase]) -> None:
        self.summary.imported += len(items)
        days = [day for item in items for code, day, _ in item.events if code != "imported"]
        self.first_day = min([*days, self.first_day] if self.first_day else days)
        self.last_day = max([*days, self.last_day] if self.last_day else days)

    def refresh_report_aggregates(self) -> None:
        """Bring the report aggregates (``reporting.aggregates``, when the hub has them) in line with the events
        this import wrote with bulk INSERTs, which bypass their per-event ORM hook: one rebuild over the span of
        the imported dates, committed. The rates of that span lag behind until the import ends."""
        if self.first_day is None:
            return
        aggregates = import_optional("mediation_hub.reporting.aggregates")
        rebuild = getattr(aggregates, "rebuild_daily_stats", None)
        if rebuild is None:
            return
        try:
            rebuild(self.first_day, self.last_day)
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("report aggregates not rebuilt for %s..%s after an import; run "
                          "`mediation-hub reports rebuild-aggregates`", self.first_day, self.last_day)

    def _insert(self, prepared: list[PreparedCase]) -> None:
        """Number the cases (one counter update per year) and insert cases, parties and events in bulk."""
        by_year: dict[int, list[PreparedCase]] = defaultdict(list)
        for item in prepared:
            by_year[item.case["received_on"].year].append(item)
        for year, items in by_year.items():
            first = next_sequence(self.org_id, year, len(items)) - len(items) + 1
            for offset, item in enumerate(items):
                item.case["number"] = format_number(self.org_region, self.org_id, year, first + offset)
        # Core INSERTs on the tables, one executemany each (the ORM's bulk path, and RETURNING in parameter order
        # on SQLite, fall back to one statement per row); the new ids come back through the unique source number.
        db.session.execute(sa.insert(Case.__table__), [item.case for item in prepared])
        ids = dict(db.session.execute(sa.select(Case.source_number, Case.id).where(
            Case.organization_id == self.org_id, Case.source_system == self.summary.source_system,
            Case.source_number.in_([item.source_number for item in prepared]))).all())
        parties, events = [], []
        for item in prepared:
            case_id = ids[item.source_number]
            parties.extend({**party, "case_id": case_id} for party in item.parties)
            for code, on_date, data in item.events:
                if code == "registered":
                    data = {"number": item.case["number"], **data}
                events.append(event_values(case_id, self.org_ref, None, code, self.actor, on_date, data))
        db.session.execute(sa.insert(Party.__table__), parties)
        db.session.execute(sa.insert(CaseEvent.__table__), events)


@dataclass(frozen=True)
class _OrgRef:
    """The handling organisation as an event row needs it (id and region), without a session-bound object."""

    id: int
    region_code: str


@dataclass(frozen=True)
class _OrgForRules:
    """What ``check_case_data``/``case_columns`` read of the handling organisation (its id), so a batch does not
    reload the organisation after each commit."""

    id: int


def _party_columns(position: int, party: dict) -> dict:
    from ..cases.service import party_columns

    return party_columns(position, party)


def _code_index(model) -> dict[str, str]:
    """Codes by code and by name (spaces and slashes ignored) for a reference table."""
    index = {}
    for code, name in db.session.execute(sa.select(model.code, model.name)):
        index[layout.label_key(code)] = code
        index[layout.label_key(name)] = code
    return index


_MARSHMALLOW_REQUIRED = {"Missing data for required field.", "Field may not be null.", "Shorter than minimum length 1."}


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"parties.0.name": [...]}; its "required" messages in Chinese."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            for name, texts in _flatten(value, f"{prefix}{key}.").items():
                flat.setdefault(name, []).extend(texts)
        return flat
    texts = messages if isinstance(messages, list) else [messages]
    flat[prefix.rstrip(".")] = [REQUIRED if t in _MARSHMALLOW_REQUIRED else str(t) for t in texts]
    return flat


def _merge(errors: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    """Add ``more`` for the columns that have no error yet (one column, one explanation)."""
    taken = {layout.FIELD_COLUMNS.get(name, name) for name in errors}
    for name, messages in more.items():
        if layout.FIELD_COLUMNS.get(name, name) not in taken:
            errors.setdefault(name, []).extend(messages)
