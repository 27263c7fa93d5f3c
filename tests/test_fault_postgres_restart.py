"""Fault: PostgreSQL restarted under mixed traffic (bench/faults/postgres_restart.py), on a throwaway server of
the test's own — never the shared one on 5432. Skipped only where the PostgreSQL server programs are not
installed, and not even then in CI (CI is set): there a missing server is a failure."""

from __future__ import annotations

import os

import pytest

from bench.faults import postgres_restart
from bench.faults.pg_instance import PostgresUnavailable, find_bindir


@pytest.fixture
def postgres_server_programs():
    try:
        return find_bindir()
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL restart test: {exc}")
        pytest.skip(str(exc))


@pytest.mark.load
def test_postgres_restart_gives_clean_503s_recovers_alone_and_leaves_no_half_written_case(
    postgres_server_programs, tmp_path
):
    result = postgres_restart.run(warmup=3, down=3, after=5, workdir=tmp_path)

    assert postgres_restart.failures(result) == [], {k: v for k, v in result.items() if k != "integrity_before"}
    # While it was down: clean 503s, for the API and for a signed-in page alike; nothing else went wrong.
    assert set(result["statuses"]) <= {200, 201, 302, 503}
    assert result["answered_503_by_kind"]["dashboard_page"] > 0
    assert result["answered_503_by_kind"]["case_register"] > 0
    assert result["unclean"] == []
    # Back up: every request succeeds, served by the same gunicorn workers.
    assert result["after_up"]["requests"] > 0 and result["after_up"]["errors"] == 0
    assert result["recovery_s"] is not None and result["gunicorn_workers_unchanged"]
    # Nothing half written, and every acknowledged case survived the restart with both parties.
    assert result["integrity_after"]["cases"] >= result["acknowledged"]["acknowledged"] > 0
    assert result["acknowledged"]["missing"] == result["acknowledged"]["without_both_parties"] == 0
    assert result["integrity_after"]["parties"] == 2 * result["integrity_after"]["cases"]
