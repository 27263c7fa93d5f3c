"""The import streams: its peak memory does not grow with the number of rows, and stays below what merely
holding the file's rows would take."""

from __future__ import annotations

import csv
import tracemalloc

import pytest
from stdnum.cn import ric

from mediation_hub.core.actor import SYSTEM
from mediation_hub.imports.service import import_file
from tests.import_samples import HEADER, row

# Slow (the peak memory of a large import): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

BATCH = 100
LONG_SUMMARY = "楼上漏水致楼下墙面受损，双方就维修费用发生争议。" * 12  # rows of a realistic size
SMALL = 200
SIX_TIMES = 6 * SMALL


def generate(path, count: int, prefix: str):
    """``count`` rows written one at a time (the test itself must not hold them), each case concluded with
    an agreement so every row writes a case, two parties and four events."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(count):
            body = f"11010519800517{i % 1000:03d}"
            data = row(
                f"{prefix}{i:06d}",
                状态="办结",
                受理日期="2025-03-04",
                办结日期="2025-03-20",
                调解结果="达成协议",
                协议内容="被申请人赔偿维修费",
                纠纷简要情况=f"第{i}号：" + LONG_SUMMARY,
                申请人证件号码=body + ric.calc_check_digit(body + "0"),
                被申请人电话="13800138000",
            )
            writer.writerow([data.get(name, "") for name in HEADER])
    return path


def peak_of(func) -> int:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_is_flat_in_the_number_of_rows(make_org, tmp_path):
    org = make_org()
    warm_up = generate(tmp_path / "warm.csv", 50, "W")
    large = generate(tmp_path / "large.csv", SIX_TIMES, "L")

    def run(path):
        summary = import_file(path, org.id, SYSTEM, source_system=path.stem, batch_size=BATCH)
        assert summary.failed == 0, summary.failures[:3]

    run(warm_up)  # warm-up: module imports, compiled statements, the pinned reference data's first load
    small_peak = peak_of(lambda: run(generate(tmp_path / "small.csv", SMALL, "T")))
    large_peak = peak_of(lambda: run(large))

    def hold_the_file():
        with open(large, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == SIX_TIMES

    loaded = peak_of(hold_the_file)
    print(
        f"peaks: {SMALL} rows {small_peak / 1e6:.2f} MB, {SIX_TIMES} rows {large_peak / 1e6:.2f} MB, "
        f"holding the {SIX_TIMES} rows {loaded / 1e6:.2f} MB"
    )
    # six times the rows, and the peak stays within 20 % of the small file's ...
    assert large_peak < small_peak * 1.2
    # ... and below what holding the file's rows alone would need
    assert large_peak < loaded
