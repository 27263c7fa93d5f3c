"""The import's bulk path on PostgreSQL writes with COPY: the same rows as the executemany INSERTs, and a batch the
database refuses leaves nothing of it behind (on either database). The row check's direct load gives what
``CaseIn().load`` gives, and leaves every payload the schema refuses to the schema."""

from __future__ import annotations

import copy
from datetime import date

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from mediation_hub.cases.models import Case
from mediation_hub.cases.service import HandlingOrganization, bulk, insert_imported_cases
from mediation_hub.core.actor import SYSTEM
from mediation_hub.extensions import db
from mediation_hub.imports import layout, rows
from mediation_hub.imports import service as imports
from mediation_hub.imports.rows import CheckSpec, PreparedCase, RowChecker
from tests.import_samples import HEADER, row, sample_rows, write_csv


def sheet_values(data: dict) -> dict:
    """A row of the sheet (by header) as the importer hands it to the checker (by column key)."""
    positions = layout.map_header(HEADER).positions
    cells = [data.get(header, "") for header in HEADER]
    return {key: cells[index] for key, index in positions.items()}


def test_the_direct_load_gives_what_the_schema_loads(make_org):
    org = make_org()
    checker = RowChecker(CheckSpec(org.id, org.kind, SYSTEM, date(2025, 6, 30), "run-1", "c.csv", "old"))
    refused = [row("X1", 申请人姓名="张" * 121), row("X2", 纠纷简要情况="")]  # too long a name; no summary
    loaded, left = 0, 0
    for data in [*sample_rows(), *refused]:
        payload = checker._payload(sheet_values(data), {})
        direct = checker._direct_load(payload)
        try:
            expected = checker.schema.load(payload)
        except ValidationError:
            assert direct is None
            left += 1
        else:
            assert direct == expected and list(direct) == list(expected)
            loaded += 1
    assert (loaded, left) == (9, 2)


def prepared_items(org) -> list[PreparedCase]:
    """The good rows of ``sample_rows()`` checked as the import checks them: J001 and J007 concluded, J002 declined,
    J006 registered, J008 in mediation."""
    spec = CheckSpec(org.id, org.kind, SYSTEM, date(2025, 6, 30), "run-1", "cases.csv", "old")
    items = [(number, data["原系统案号"], sheet_values(data)) for number, data in enumerate(sample_rows(), start=2)]
    good = [item for item in RowChecker(spec).check(items) if isinstance(item, PreparedCase)]
    return [item for item in good if item.row != 7]  # row 7 repeats J001's source number: the importer refuses it


def table_contents(source_system: str) -> dict[str, list]:
    """The rows of the cases of one source system, of their parties and events, as PostgreSQL holds them
    (text), without what differs from one insert to the next: ids, the source system, timestamps."""
    case_ids = "SELECT id FROM cases WHERE source_system = :s"
    queries = {
        "cases": "SELECT number, to_jsonb(c) - 'id' - 'number' - 'source_system' - 'created_at' - 'updated_at' "
        "FROM cases c WHERE source_system = :s ORDER BY id",
        "parties": f"SELECT to_jsonb(p) - 'id' - 'case_id' FROM parties p WHERE case_id IN ({case_ids}) "
        "ORDER BY case_id, position",
        "events": "SELECT to_jsonb(e) - 'id' - 'case_id' - 'at' - 'data', e.data::text FROM case_events e "
        f"WHERE case_id IN ({case_ids}) ORDER BY case_id, id",
    }
    return {
        name: [tuple(r) for r in db.session.execute(sa.text(q), {"s": source_system})] for name, q in queries.items()
    }


@pytest.mark.postgres
def test_copy_writes_exactly_the_rows_of_the_inserts(make_org, monkeypatch):
    org = make_org()
    ref = HandlingOrganization(org.id, org.region_code)
    items = prepared_items(org)
    assert len(items) == 5
    by_copy, by_insert = copy.deepcopy(items), copy.deepcopy(items)
    for item in by_copy:
        item.case["source_system"] = "copy"
    for item in by_insert:
        item.case["source_system"] = "insert"

    assert bulk.copies()  # this test runs on PostgreSQL (make test-postgres)
    copied_ids = insert_imported_cases(ref, "copy", by_copy, SYSTEM)
    monkeypatch.setattr(bulk, "copies", lambda: False)
    inserted_ids = insert_imported_cases(ref, "insert", by_insert, SYSTEM)
    db.session.flush()

    numbers = [f"MH-110105-{org.id}-2025-{n:06d}" for n in range(1, 11)]
    assert sorted(copied_ids) == sorted(inserted_ids) == sorted(i.source_number for i in items)
    assert sorted(copied_ids.values()) == list(copied_ids.values())  # ids in the items' order, as INSERT gives
    copied, inserted = table_contents("copy"), table_contents("insert")
    assert [n for n, _ in copied["cases"]] == numbers[:5] and [n for n, _ in inserted["cases"]] == numbers[5:]
    assert [c for _, c in copied["cases"]] == [c for _, c in inserted["cases"]]
    assert copied["parties"] == inserted["parties"] and len(copied["parties"]) == 10
    # the registered events name the case's number, the only difference between the two sets of rows
    translate = dict(zip(numbers[:5], numbers[5:], strict=True))
    expected_events = []
    for columns, text in copied["events"]:
        for old, new in translate.items():
            text = text.replace(f'"{old}"', f'"{new}"')
        expected_events.append((columns, text))
    assert expected_events == inserted["events"] and len(inserted["events"]) == 4 + 3 + 2 + 4 + 3


def test_a_refused_batch_leaves_nothing_half_written(make_org, tmp_path, monkeypatch):
    """A2's applicant names a region that does not exist (past the row checks, as if removed meanwhile): its
    parties are refused after its case row went in. The batch is undone and retried row by row: A1 and A3 go
    in with their parties and events, nothing of A2 stays, and A2 is reported."""
    org = make_org()
    real = rows._party_columns

    def unknown_region_for_a2(position, party):
        columns = real(position, party)
        if party["name"] == "张A2":
            columns["region_code"] = "999999"
        return columns

    monkeypatch.setattr(rows, "_party_columns", unknown_region_for_a2)
    summary = imports.import_file(
        write_csv(tmp_path / "c.csv", [row("A1"), row("A2"), row("A3")]), org.id, SYSTEM, source_system="old"
    )
    assert (summary.imported, summary.skipped, summary.failed) == (2, 0, 1)
    assert [(f.row, f.source_number, f.reason) for f in summary.failures] == [(3, "A2", "数据库拒绝写入")]
    case_ids = sa.select(Case.id).where(Case.organization_id == org.id)
    assert sorted(db.session.scalars(sa.select(Case.source_number).where(Case.id.in_(case_ids)))) == ["A1", "A3"]
    counted = db.session.execute(
        sa.text(
            "SELECT (SELECT count(*) FROM cases WHERE organization_id = :o), "
            "(SELECT count(*) FROM parties WHERE case_id IN (SELECT id FROM cases WHERE organization_id = :o)), "
            "(SELECT count(*) FROM case_events WHERE organization_id = :o)"
        ),
        {"o": org.id},
    ).one()
    assert tuple(counted) == (2, 4, 4)
