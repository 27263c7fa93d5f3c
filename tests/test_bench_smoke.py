"""Every benchmark script runs in its smoke mode (tiny data, SQLite, a few requests) so none of them rots; and
the data generator is deterministic for a seed.

The scripts run as the documented commands (``python -m bench.<name> --smoke``), all six at once in
subprocesses: they start gunicorn, drive it with wrk, sign in, import, and write their result tables; the
assertions read those tables back."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.generate import BULK_TABLES, Spec, digest_rows, run
from mediation_hub.core.calendar import CalendarDay
from mediation_hub.extensions import db
from mediation_hub.regions.models import Region

# Slow (every benchmark script in smoke mode): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
YEAR = date(2025, 1, 1), date(2025, 12, 31)


@pytest.fixture(scope="module")
def smoke_database(tmp_path_factory):
    """One small generated SQLite database that the HTTP smoke runs share (generating it is most of a run)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('bench') / 'smoke.db'}"
    result = run(url, Spec(cases=300, seed=5, start=YEAR[0], end=YEAR[1]), log=lambda *_: None)
    assert result["counts"]["cases"] == 300
    return url


SCRIPTS = ("rates", "dashboard", "http_load", "import_rate", "memory_soak", "scale")


@pytest.fixture(scope="module")
def smoke_results(smoke_database, tmp_path_factory):
    """Run the six benchmark scripts at once (each mostly waits: server start-up, child processes), then
    read each one's result tables; {script: {table name: result}}."""
    outs = {name: tmp_path_factory.mktemp(name) for name in SCRIPTS}
    source = Path(smoke_database.removeprefix("sqlite:///"))

    def own_copy(name: str) -> tuple[str, ...]:
        """A copy of the database per script: SQLite takes one writer at a time."""
        if name == "import_rate":  # builds its own, empty of cases
            return ()
        target = outs[name] / "smoke.db"
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)  # not a file copy: the database runs in WAL mode, recent pages sit in its -wal file
        return ("--database-url", f"sqlite:///{target}")

    processes = {
        name: subprocess.Popen(
            [sys.executable, "-m", f"bench.{name}", "--smoke", "--out", str(outs[name]), *own_copy(name)],
            cwd=str(ROOT),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in SCRIPTS
    }
    results = {}
    for name, process in processes.items():
        try:
            stdout, stderr = process.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        results[name] = {
            "returncode": process.returncode,
            "stderr": stderr[-3000:],
            "stdout": stdout[-2000:],
            "out": outs[name],
            "tables": {
                path.name.split("-smoke")[0]: json.loads(path.read_text(encoding="utf-8"))
                for path in sorted(outs[name].glob("*.json"))
            },
        }
    return results


def script_tables(smoke_results, name: str) -> dict:
    result = smoke_results[name]
    assert result["returncode"] == 0, result["stderr"]
    assert result["tables"], result["stdout"]
    return result["tables"]


def test_rates_smoke(smoke_results):
    result = script_tables(smoke_results, "rates")["rates"]
    totals = result["rows"][0]
    assert totals["api_p50_ms"] > 0 and totals["baseline_p50_ms"] > 0 and totals["received"] > 0
    assert {(row["basis"], row["query"]) for row in result["rows"]} == {
        (basis, query)
        for basis in ("handled", "occurred")
        for query in ("rates 130000 2025", "rates 130000 2025 by month", "rates 130000 2025 by region")
    }
    out = smoke_results["rates"]["out"]
    assert next(out.glob("rates-smoke-*.md")).read_text(encoding="utf-8").startswith("# Rates")


def test_dashboard_smoke(smoke_results):
    rows = script_tables(smoke_results, "dashboard")["dashboard"]["rows"]
    names = [row["what"].strip() for row in rows]
    assert names[:2] == ["dashboard page (aggregates), basis handled", "dashboard page (aggregates), basis occurred"]
    assert "overdue list" in names and "by region, occurred" in names and names[-1].startswith("baseline")
    assert all(row["p50_ms"] > 0 for row in rows)


def test_http_load_smoke(smoke_results):
    """Every endpoint beside hello-world, none failing; the targets judged against hello's req/s."""
    results = script_tables(smoke_results, "http_load")
    rows = {row["endpoint"]: row for row in results["http_load"]["rows"]}
    assert list(rows) == [
        "GET /hello (hello world)",
        "GET /cases/ID (bare read)",
        "GET /api/v1/cases/ID",
        "POST /cases (bare insert)",
        "POST /api/v1/cases (register)",
        "POST /api/v1/cases/ID/accept",
    ]
    assert all(row["errors"] == 0 and row["requests"] > 0 and row["rps"] > 0 for row in rows.values())
    hello, read, accept = (
        rows["GET /hello (hello world)"],
        rows["GET /api/v1/cases/ID"],
        rows["POST /api/v1/cases/ID/accept"],
    )
    assert hello["vs_hello"] == "100.0%"
    assert read["vs_hello"] == f"{read['rps'] / hello['rps']:.1%}"
    assert read["target"] == f"{'met' if read['rps'] >= 0.25 * hello['rps'] else 'MISSED'} (≥25% of hello)"
    assert accept["target"] == f"{'met' if accept['rps'] >= 0.10 * hello['rps'] else 'MISSED'} (≥10% of hello)"
    assert read["vs_bare"].endswith("%") and rows["POST /api/v1/cases (register)"]["vs_bare"].endswith("%")
    memory = results["worker_memory"]["rows"]
    assert [row["workers"] for row in memory] == [2, 2] and all(row["rss_after_mb"] > 0 for row in memory)


def test_memory_soak_smoke(smoke_results):
    """A reading before the load and after every chunk (three at least), for each of the 2 workers; no request
    failed but for a few 409s (conflict answers, never a server error, at most one in fifty requests), whose
    requests the wrk script does not name (docs/PERFORMANCE.md "Worker memory")."""
    result = script_tables(smoke_results, "memory_soak")["memory_soak"]
    rows = result["rows"]
    assert rows[0]["requests"] == 0 and len(rows) >= 4  # before the load and after three chunks at least
    assert [row["requests"] for row in rows] == sorted({row["requests"] for row in rows})
    assert rows[-1]["requests"] >= 240 - 60 // 4
    assert all(row["worker_1_rss_mb"] > 0 and row["worker_2_rss_mb"] > 0 for row in rows)
    # conflict answers only, and few of them: the soak replays one-use request lists, and a quiet machine's pace
    # still leaves a few acceptances or registrations answered 409 (source not yet identified: docs/PERFORMANCE.md)
    assert set(result["machine"]["errors_by_status"]) <= {"409"}
    assert result["machine"]["errors"] <= max(1, rows[-1]["requests"] // 50)
    assert result["notes"][0].startswith(("verdict: settles", "verdict: GROWS"))


def test_scale_smoke(smoke_results):
    rows = {row["figure"]: row for row in script_tables(smoke_results, "scale")["scale"]["rows"]}  # tables: "  name"
    assert rows["cases"]["value"] == 300
    assert rows["database size"]["value"] > 0 and rows["cases"]["database"] == "smoke.db"
    assert rows["cases written"]["unit"] == "cases/s"
    for figure in ("cases written", "rate reports", "rate reports by month"):
        assert rows[figure]["value"] > 0 and ", 0 errors;" in rows[figure]["note"]


def test_import_rate_smoke(smoke_results):
    rows = script_tables(smoke_results, "import_rate")["import_rate"]["rows"]
    assert [(row["imported"], row["workers"]) for row in rows[:2]] == [(50, 1), (200, 2)] and rows[0]["failed"] == 0
    assert rows[1]["peak_rss_mb"] > 0 and rows[1]["worker_rss_mb"] > 0 and rows[-1]["rows"].startswith("baseline")


def test_documents_smoke(tmp_path):
    """bench.documents on its own (it builds its SQLite database through the services): agreements and 卷宗
    issued and printed, beside the plain-text baselines."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.documents", "--smoke", "--out", str(tmp_path)],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(next(tmp_path.glob("documents-smoke-*.json")).read_text(encoding="utf-8"))
    assert [(row["document"], row["measure"]) for row in result["rows"]] == [
        ("agreement (人民调解协议书)", "issue (full path)"),
        ("agreement (人民调解协议书)", "render only"),
        ("baseline: plain text like the agreement", "render only"),
        ("file (卷宗)", "issue (full path)"),
        ("file (卷宗)", "render only"),
        ("baseline: plain text like the file", "render only"),
    ]
    assert all(row["p50_ms"] > 0 and row["docs"] > 0 for row in result["rows"])
    assert all(row["pages"] >= 2 for row in result["rows"] if "file" in row["document"])
    assert result["rows"][0]["target"].startswith("p95 ≤ 300 ms: ")
    assert next(tmp_path.glob("documents-smoke-*.md")).read_text(encoding="utf-8").startswith("# Documents")


def test_generator_smoke_command(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.generate",
            "--smoke",
            "--cases",
            "200",
            "--database-url",
            f"sqlite:///{tmp_path / 'g.db'}",
        ],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "cases                               200" in completed.stdout


def test_generator_is_deterministic_for_a_seed(app):
    regions = [
        (c, n, getattr(lv, "value", lv), p, pr)
        for c, n, lv, p, pr in db.session.execute(
            sa.select(Region.code, Region.name, Region.level, Region.parent_code, Region.province_code)
        )
    ]
    workdays = dict(db.session.execute(sa.select(CalendarDay.day, CalendarDay.is_workday)).all())
    keys = {name: app.config[name] for name in ("PII_KEY", "LOOKUP_KEY")}

    def digest(seed, cases=400):
        return digest_rows(Spec(cases=cases, seed=seed, start=YEAR[0], end=YEAR[1]), regions, workdays, keys)

    assert digest(3) == digest(3)
    assert digest(3) != digest(4)
    assert digest(3, cases=400) != digest(3, cases=401)
    assert "cases" in BULK_TABLES


@pytest.mark.load
def test_federation_smoke(tmp_path):
    """bench.federation with 20 transfers (5 per commit, at most 10 waiting) on SQLite: two hubs as servers, the
    figures printed and written, every message applied once on the receiving hub, beside the baseline of as many
    signed POSTs to the bare endpoint."""
    options = ("--count", "20", "--batch", "5", "--window", "10", "--out", str(tmp_path))
    completed = subprocess.run(
        [sys.executable, "-m", "bench.federation", *options],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "| transfer.offered hebei → beijing: commit → applied | sqlite | 20 |" in completed.stdout
    assert "| baseline: signed POST to a bare endpoint, one thread |" in completed.stdout
    result = json.loads(next(tmp_path.glob("federation-20-*.json")).read_text(encoding="utf-8"))
    federation, baseline = result["rows"]
    assert federation["applied_once"] == "20/20" and federation["once"] is True
    assert (federation["applied"], federation["transfers_there"], federation["cases_there"]) == (20, 20, 20)
    assert federation["msgs_per_s"] > 0 and 0 < federation["p50_ms"] <= federation["p95_ms"] <= federation["max_ms"]
    assert federation["to_2xx_p95_ms"] > 0 and federation["body_bytes"] > 0
    assert baseline["messages"] == 20 and baseline["msgs_per_s"] > 0 and baseline["p95_ms"] > 0
    assert baseline["body_bytes"] == federation["body_bytes"]  # the same bodies
    assert federation["vs_baseline"] == f"{federation['msgs_per_s'] / baseline['msgs_per_s']:.1%}"
    assert result["machine"]["database"] == "sqlite" and result["machine"]["server_tracebacks"] == 0
    assert (
        next(tmp_path.glob("federation-20-*.md")).read_text(encoding="utf-8").startswith("# Federation: 20 transfers")
    )
