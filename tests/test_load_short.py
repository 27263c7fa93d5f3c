"""The mixed load of bench/load/mixed_traffic.py in its short mode: gunicorn with two workers on 127.0.0.1 and a
database of its own (PostgreSQL when a server answers, as in CI; otherwise SQLite with one worker), mediators,
officers and officials at once for ~8 s, and not one unexpected answer nor one half-written case."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Every part of the mix must have happened, or "zero errors" would be cheap (the short run goes on until it has).
REQUIRED_KINDS = {
    "case_register",
    "case_accept",
    "case_session",
    "case_conclude",
    "case_routes",
    "transfer_request",
    "transfer_list",
    "dashboard_page",
    "rates_api",
    "page_login",
}


# The default run (PostgreSQL when a server answers), and the embedded default as an office uses it: 20 people
# (12 mediators, 4 officers, 4 officials) on a SQLite file served by gunicorn -w 4 (issue 13, point 0).
RUNS = {
    "default": [],
    "sqlite-20-people-4-workers": [
        "--sqlite",
        "--workers",
        "4",
        "--mediators",
        "12",
        "--officers",
        "4",
        "--officials",
        "4",
    ],
}


@pytest.mark.load
@pytest.mark.parametrize("extra", RUNS.values(), ids=RUNS.keys())
def test_short_mixed_load_has_no_errors_and_no_half_written_case(tmp_path, extra):
    summary_path = tmp_path / "summary.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.load.mixed_traffic",
            "--short",
            "--hard-limit",
            "150",
            "--results",
            str(tmp_path / "load.md"),
            "--json",
            str(summary_path),
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads(summary_path.read_text())
    assert summary["errors"] == 0 and summary["errors_by_status"] == {}
    assert set(summary["kinds"]) >= REQUIRED_KINDS, sorted(summary["kinds"])
    assert summary["transfers_sent"] >= 1 and summary["transfers_answered"] >= 1
    # Every case the traffic registered is there with both parties; none is missing a lifecycle event.
    integrity = summary["integrity"]
    assert integrity["cases"] == summary["kinds"]["case_register"]["requests"]
    assert integrity["parties"] == 2 * integrity["cases"]
    assert all(
        integrity[key] == 0
        for key in (
            "cases_without_parties",
            "cases_without_registered_event",
            "accepted_without_event",
            "concluded_without_event",
            "transfer_events_mismatch",
            "accepted_transfer_events_mismatch",
        )
    )
    # The printed report names the p99 of the run.
    assert f"p99 {summary['p99']:.0f} ms" in (tmp_path / "load.md").read_text()
