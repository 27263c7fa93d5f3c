"""Importing historical cases from a csv or xlsx file: ``import_file`` is the one entry point.

A file is read row by row (``readers``) and handled in batches: each row is checked with the cases service's
own rules (``CaseIn`` for the shape, ``check_case_data`` for the content, ``step_date``/``check_conclusion``/
``case_due_on`` for its history), the good rows of a batch are written by the cases service's bulk path
(``cases.service.insert_imported_cases``: a few bulk INSERTs of cases, parties, events) and committed together.
A row is all or nothing: a row that fails is reported and nothing of it is written; when the database refuses a
batch, the batch is retried row by row so the good rows still go in. Rows already imported (same organisation,
source system and source number) are skipped, so a file can be imported again after an interruption.

``import_file`` runs inside a job's or a command's unit of work (``core.uow.transaction``) and, being a long
job, commits batch by batch explicitly (``commit_batch``): each batch's cases become visible, and the progress
other processes read goes with them. Call it with no pending changes in the session."""

from __future__ import annotations

import csv
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self, TextIO, TypeAlias

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..cases.models import Case, CaseEvent
from ..cases.service import (
    HandlingOrganization,
    analyze_case_tables,
    announce_imported,
    estimated_case_rows,
    handling_organization_problem,
    insert_imported_cases,
)
from ..core.actor import Actor, Role
from ..core.export import safe_cell
from ..core.messages import coded
from ..core.shanghai import today_shanghai
from ..core.uow import commit_batch, rollback
from ..errors import ValidationFailed
from ..extensions import db
from ..registry.models import Organization
from ..registry.service import organization_scope
from . import layout
from .layout import cell_text, column_label
from .policy import POLICY
from .readers import FileLimits, UnusableFile, open_sheet
from .rows import CheckSpec, PreparedCase, RowChecker, RowRejected, required_message

if TYPE_CHECKING:
    from _csv import Writer

log = logging.getLogger("mediation_hub.imports")

DEFAULT_SOURCE_SYSTEM = "legacy"
DEFAULT_BATCH_SIZE = 500
KEPT_FAILURES = 100  # failures kept in the summary itself; the error report file has them all
ERROR_REPORT_HEADER = ("行号", "原系统案号", "字段", "原因")
SOURCE_NUMBER_MAX = 60  # Case.source_number
SOURCE_SYSTEM_MAX = 40
ANALYZE_MIN_ROWS = 1_000
SheetRow: TypeAlias = tuple[int, tuple[Any, ...]]  # (row number, its cells as the file holds them), from a reader
RowValues: TypeAlias = dict[str, Any]  # a row's cells by column key (``layout``)


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

    def as_dict(self) -> dict[str, object]:
        return {
            "total": self.total,
            "imported": self.imported,
            "skipped": self.skipped,
            "failed": self.failed,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            "ignored_columns": self.ignored_columns,
        }


# --- who may import into which organisation ---------------------------------------------------------------


def import_organization(actor: Actor, organization_id: int | None) -> Organization:
    """The organisation the actor may import cases into: any for administrators, those of their region for
    registry administrators, their own for mediators; it must be an active mediation organisation."""
    POLICY.require(actor, "import_cases")
    org = db.session.get(Organization, organization_id) if organization_id else None
    if org is None:
        raise ValidationFailed({"organization_id": [coded("organization_required", "请选择承办组织")]})
    if actor.role == Role.mediator and org.id != actor.organization_id:
        raise ValidationFailed({"organization_id": [coded("not_own_organization", "只能为本组织导入案件")]})
    if not db.session.scalar(sa.select(sa.exists().where(Organization.id == org.id, organization_scope(actor)))):
        raise ValidationFailed({"organization_id": [coded("outside_region", "该组织不在您的管辖范围内")]})
    problem = handling_organization_problem(org)
    if problem:
        raise ValidationFailed({"organization_id": [problem]})
    return org


def check_source_system(source_system: str | None) -> str:
    source_system = (source_system or "").strip() or DEFAULT_SOURCE_SYSTEM
    if len(source_system) > SOURCE_SYSTEM_MAX:
        raise ValidationFailed(
            {"source_system": [coded("too_long", "来源系统名称不超过 %(max)s 个字符", max=SOURCE_SYSTEM_MAX)]}
        )
    return source_system


def check_header(path: str | Path, limits: FileLimits | None = None) -> layout.HeaderMap:
    """Open the file and check its header; UnusableFile names the missing (or repeated) columns, or the limit the
    file is beyond (``limits``, by default the settings')."""
    with open_sheet(path, limits or FileLimits.configured()) as reader:
        return _checked_header(reader.header)


def _checked_header(header: list[Any]) -> layout.HeaderMap:
    mapped = layout.map_header(header)
    problems = []
    if mapped.missing:
        problems.append(gettext("缺少必需的列：%(columns)s", columns="、".join(mapped.missing)))
    if mapped.duplicated:
        problems.append(gettext("列重复：%(columns)s", columns="、".join(mapped.duplicated)))
    if problems:
        raise UnusableFile(
            coded("header_mismatch", "%(problems)s（表头与导入格式不符，见导入说明）", problems="；".join(problems))
        )
    return mapped


# --- the entry point ----------------------------------------------------------------------------------------


def import_file(
    path: str | Path,
    organization_id: int,
    actor: Actor,
    *,
    source_system: str = DEFAULT_SOURCE_SYSTEM,
    on_progress: Callable[[ImportProgress], None] | None = None,
    errors_path: str | Path | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    run: str | None = None,
    filename: str | None = None,
    workers: int = 1,
    limits: FileLimits | None = None,
) -> ImportSummary:
    """Import the cases of a csv or xlsx file into an organisation; return the summary.

    Raises before anything is written when the actor may not import into the organisation (403/422) or the
    file cannot be used (``UnusableFile``: wrong type, encoding, or header — the missing columns are named —, or
    beyond ``limits``, by default the settings'). A row or column limit that a sheet does not state up front stops
    the import where it is reached (``UnusableFile``); the batches before it stay imported.
    Afterwards every row is counted as imported, skipped (already imported earlier) or failed (with its
    reasons in the error report csv ``errors_path``: 行号, 原系统案号, 字段, 原因). ``on_progress`` is called
    after every batch. Commits after every batch, and once more at the end, after announcing the span of days
    the file's cases cover (see the module's docstring).

    ``workers`` > 1 checks the rows of each batch in that many forked worker processes (``imports.parallel``;
    for the command line and benchmarks, never from a multi-threaded web process); the result is the same."""
    started = time.monotonic()
    org = import_organization(actor, organization_id)
    source_system = check_source_system(source_system)
    with open_sheet(path, limits or FileLimits.configured()) as reader:
        mapped = _checked_header(reader.header)
        summary = ImportSummary(
            filename=filename or Path(path).name,
            organization_id=org.id,
            source_system=source_system,
            run=run or uuid.uuid4().hex,
            ignored_columns=mapped.ignored,
            errors_path=Path(errors_path) if errors_path else None,
        )
        spec = CheckSpec(org.id, org.kind, actor, today_shanghai(), summary.run, summary.filename, source_system)
        with _ErrorReport(summary) as report, _reference_data_kept(), _row_checker(spec, workers) as checker:
            importer = _Importer(org, summary, report, mapped.positions, checker)
            commit_batch()  # the checks above only read: each batch starts a transaction of its own

            def progress() -> None:
                if on_progress is not None:
                    on_progress(
                        ImportProgress(
                            summary.total, reader.position(), summary.imported, summary.skipped, summary.failed
                        )
                    )

            try:
                # One batch is checked (in the workers, when there are any) while the one before it is stored.
                pending = None
                for batch in _batches(reader.rows(), batch_size):
                    started_batch = importer.begin_batch(batch)
                    if pending is not None:
                        importer.finish_batch(pending)
                        progress()
                    pending = started_batch
                if pending is not None:
                    importer.finish_batch(pending)
                    progress()
            except BaseException:
                rollback()  # a batch cut short leaves nothing of it; the batches before it are committed
                raise
            finally:
                importer.announce_span()
    summary.seconds = time.monotonic() - started
    log.info("import %s into organisation %s: %s", summary.filename, org.id, summary.as_dict())
    return summary


class _Checked(Protocol):
    """A checker's answer for a batch: ``get()`` gives the results, waiting for them when they are not there yet."""

    def get(self) -> list[PreparedCase | RowRejected]: ...


class _Checker(Protocol):
    """What the import asks of a row checker: ``rows.RowChecker`` or ``parallel.ParallelChecker``."""

    @property
    def spec(self) -> CheckSpec: ...

    def submit(self, items: list[tuple[int, str, RowValues]]) -> _Checked: ...


@contextmanager
def _row_checker(spec: CheckSpec, workers: int) -> Iterator[_Checker]:
    if workers <= 1:
        yield RowChecker(spec)
        return
    from .parallel import ParallelChecker

    checker = ParallelChecker(spec, workers)
    try:
        yield checker
    finally:
        checker.close()


@contextmanager
def _reference_data_kept() -> Iterator[None]:
    """Keep the reference rows the checks look up loaded for the whole import.

    The row checks look each code up with ``session.get``; the identity map holds objects only weakly and a
    commit expires them, so without this every row would query the reference tables again. The checker holds
    strong references (categories and sources at once, regions as rows name them) and commits here do not
    expire them: none of this depends on the size of the file, and reference data does not change during an
    import."""
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield
    finally:
        session.expire_on_commit = expire_on_commit


def _batches(rows: Iterator[SheetRow], size: int) -> Iterator[list[SheetRow]]:
    batch: list[SheetRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _ErrorReport:
    """The csv of failed rows, written as they fail (UTF-8 with a BOM, so Excel shows the Chinese)."""

    def __init__(self, summary: ImportSummary) -> None:
        self.summary = summary
        self._file: TextIO | None = None
        self._writer: Writer | None = None

    def __enter__(self) -> Self:
        if self.summary.errors_path is not None:
            self.summary.errors_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.summary.errors_path, "w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow(ERROR_REPORT_HEADER)
        return self

    def add(self, failure: RowFailure) -> None:
        if len(self.summary.failures) < KEPT_FAILURES:
            self.summary.failures.append(failure)
        if self._writer is not None:
            self._writer.writerow(
                [failure.row, safe_cell(failure.source_number), failure.column, safe_cell(failure.reason)]
            )

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()


# --- one batch -------------------------------------------------------------------------------------------------


@dataclass
class _Batch:
    """A batch between ``begin_batch`` and ``finish_batch``: rows already refused, and the checker's answer
    for the others (``.get()`` waits for it)."""

    rows: int
    skipped: int
    settled: list[RowRejected]
    checked: _Checked
    resumed: int = 0  # imported by an earlier, interrupted run of the same job (``run``): counted as imported


class _Importer:
    def __init__(
        self,
        org: Organization,
        summary: ImportSummary,
        report: _ErrorReport,
        positions: dict[str, int],
        checker: _Checker,
    ) -> None:
        self.org_id = org.id
        self.org_ref = HandlingOrganization(org.id, org.region_code)
        self.actor = checker.spec.actor
        self.summary, self.report, self.positions, self.checker = summary, report, positions, checker
        self.first_day: date | None = None  # the span of the rate events written, for the report aggregates
        self.last_day: date | None = None
        self.since_analyze = 0  # see _keep_statistics
        self.known_cases: int | None = None
        self.stored_last: dict[str, int] = {}  # source numbers stored by the last batch finished, and their rows

    def fail(self, row: int, source_number: str, errors: dict[str, list[str]]) -> None:
        self.summary.failed += 1
        for name, messages in errors.items():
            for message in messages:
                self.report.add(RowFailure(row, source_number, column_label(name), message))

    def begin_batch(self, batch: list[SheetRow]) -> _Batch:
        """Settle the rows imported by earlier runs or earlier batches already stored (skipped, or duplicates
        of this file) and hand the others to the checker, which may work on them while the batch before is
        stored."""
        rows = [(number, self._values(cells)) for number, cells in batch]
        numbers = [cell_text(values.get("source_number")) for _, values in rows]
        earlier = self._already_imported({n for n in numbers if n})
        to_check, settled, skipped, resumed = [], [], 0, 0
        for (row, values), source_number in zip(rows, numbers, strict=True):
            problem = self._source_number_problem(source_number, earlier)
            if problem == "skip":
                skipped += 1
            elif earlier.get(source_number) == (self.summary.run, row):  # this very row, by a killed run of the job
                resumed += 1
            elif problem:
                settled.append(RowRejected(row, source_number, {"source_number": [problem]}))
            else:
                to_check.append((row, source_number, values))
        return _Batch(len(rows), skipped, settled, self.checker.submit(to_check), resumed)

    def finish_batch(self, batch: _Batch) -> None:
        """Report the batch's failures in row order of discovery and store its good rows. The first row with a
        source number claims it; a later one (in this batch, or in the previous batch, which was not yet stored
        when this one began) fails as a duplicate."""
        self.summary.total += batch.rows
        self.summary.skipped += batch.skipped
        self.summary.imported += batch.resumed
        for rejected in batch.settled:
            self.fail(rejected.row, rejected.source_number, rejected.errors)
        prepared: list[PreparedCase] = []
        claimed: dict[str, int] = {}
        previous, self.stored_last = self.stored_last, {}
        for result in batch.checked.get():
            first = claimed.get(result.source_number, previous.get(result.source_number))
            if first is not None:
                self.fail(result.row, result.source_number, {"source_number": [_duplicate(first)]})
            elif isinstance(result, RowRejected):
                self.fail(result.row, result.source_number, result.errors)
            else:
                claimed[result.source_number] = result.row
                prepared.append(result)
        if prepared:
            self._store(prepared)

    def _values(self, cells: tuple[Any, ...]) -> RowValues:
        return {key: cells[index] if index < len(cells) else None for key, index in self.positions.items()}

    def _already_imported(self, numbers: set[str]) -> dict[str, tuple[str | None, int | None]]:
        """Source numbers of this batch already in the database: {number: (run that imported it, its row)}.

        Their dates widen the span of the report aggregates' rebuild, so running a file again also repairs
        the aggregates of an import that was interrupted before its rebuild."""
        if not numbers:
            return {}
        found = {
            case_id: (number, first, last)
            for case_id, number, first, last in db.session.execute(
                sa.select(Case.id, Case.source_number, Case.received_on, Case.last_step_on).where(
                    Case.organization_id == self.org_id,
                    Case.source_system == self.summary.source_system,
                    Case.source_number.in_(numbers),
                )
            )
        }
        if not found:
            return {}
        self._widen([day for _, first, last in found.values() for day in (first, last)])
        origin = {
            case_id: (data or {})
            for case_id, data in db.session.execute(
                sa.select(CaseEvent.case_id, CaseEvent.data).where(
                    CaseEvent.case_id.in_(list(found)), CaseEvent.code == "imported"
                )
            )
        }
        return {
            number: (origin.get(case_id, {}).get("run"), origin.get(case_id, {}).get("row"))
            for case_id, (number, _, _) in found.items()
        }

    def _source_number_problem(self, number: str, earlier: dict[str, tuple[str | None, int | None]]) -> str | None:
        if not number:
            return required_message()
        if len(number) > SOURCE_NUMBER_MAX:
            return coded("too_long", "原系统案号不超过 %(max)s 个字符", max=SOURCE_NUMBER_MAX)
        if number in earlier:
            run, first_row = earlier[number]
            return _duplicate(first_row) if run == self.summary.run else "skip"
        return None

    def _store(self, prepared: list[PreparedCase]) -> None:
        try:
            self._insert(prepared)
            commit_batch()  # the batch's cases become visible together, before its progress is reported
            self._written(prepared)
            return
        except SQLAlchemyError:
            rollback()
            log.warning(
                "import batch refused by the database; retrying its %s rows one by one", len(prepared), exc_info=True
            )
        for item in prepared:
            self._store_one(item)

    def _store_one(self, item: PreparedCase) -> None:
        try:
            self._insert([item])
            commit_batch()  # a row of a refused batch goes in on its own
            self._written([item])
        except IntegrityError as exc:
            rollback()
            if self._already_imported({item.source_number}):  # imported meanwhile by a concurrent run
                self.summary.skipped += 1
                return
            log.warning("import row %s refused by the database: %s", item.row, type(exc.orig).__name__)
            self.fail(item.row, item.source_number, {"file": [coded("refused_by_database", "数据库拒绝写入")]})
        except SQLAlchemyError:
            rollback()
            log.exception("import row %s refused by the database", item.row)
            self.fail(item.row, item.source_number, {"file": [coded("database_error", "数据库错误")]})

    def _written(self, items: list[PreparedCase]) -> None:
        self.summary.imported += len(items)
        self.stored_last.update((item.source_number, item.row) for item in items)
        self._widen([day for item in items for code, day, _ in item.events if code != "imported"])
        self._keep_statistics(len(items))

    def _keep_statistics(self, written: int) -> None:
        """On PostgreSQL, ANALYZE the tables the import fills once it has grown them by a tenth (and at least
        1,000 cases) since their statistics were taken: autovacuum's own rule, applied at once. A large
        import into a young table otherwise runs its look-ups (already imported? the new ids) with plans made
        for the empty table, and slows down as it goes (66 rows/s after 100k rows, measured)."""
        if db.session.get_bind().dialect.name != "postgresql":
            return
        self.since_analyze += written
        if self.known_cases is None:
            self.known_cases = estimated_case_rows()
        if self.since_analyze < max(ANALYZE_MIN_ROWS, self.known_cases // 10):
            return
        analyze_case_tables()
        commit_batch()  # the new statistics serve every session's planner once committed
        self.known_cases, self.since_analyze = estimated_case_rows(), 0

    def _widen(self, days: list[date]) -> None:
        if days:
            self.first_day = min([*days, self.first_day] if self.first_day else days)
            self.last_day = max([*days, self.last_day] if self.last_day else days)

    def announce_span(self) -> None:
        """Announce the span of days of the file's cases (imported now or before; ``cases.service.
        announce_imported``) and commit: the report aggregates, which the bulk INSERTs bypass, rebuild that span
        once the commit is through, so its rates lag behind until the import ends. An import stopped before
        this leaves them behind; running the file again (its rows skipped) announces the span again."""
        if self.first_day is None or self.last_day is None:
            return
        try:
            announce_imported(self.first_day, self.last_day)
            commit_batch()  # the import's last commit: the listeners of the announcement run after it
        except SQLAlchemyError:
            rollback()
            log.exception(
                "report aggregates not rebuilt for %s..%s after an import; run "
                "`mediation-hub reports rebuild-aggregates`",
                self.first_day,
                self.last_day,
            )

    def _insert(self, prepared: list[PreparedCase]) -> None:
        """Number the cases and insert them with their parties and events: the cases service's bulk path."""
        insert_imported_cases(self.org_ref, self.summary.source_system, prepared, self.actor)


def _duplicate(first_row: int | None) -> str:
    return coded("duplicate_source_number", "与第 %(row)s 行的原系统案号重复", row=first_row)
