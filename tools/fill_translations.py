"""Fill the empty and fuzzy msgstr of the English catalogue from a table, and list what is still untranslated.

    .venv/bin/python tools/fill_translations.py TABLE.json [TABLE.json …]   # {"中文 msgid": "English", …}
    .venv/bin/python tools/fill_translations.py                             # only list what is left

Run it after ``make translations`` (which re-extracts and merges), then compile again:
``.venv/bin/pybabel compile -d mediation_hub/translations``. A filled entry loses its fuzzy flag; an entry whose
placeholders (``%(name)s``, ``{name}``) differ from its msgid's is reported, never silently written."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "mediation_hub/translations/en/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def main(tables: list[str]) -> int:
    table: dict[str, str] = {}
    for name in tables:
        table.update(json.loads(Path(name).read_text(encoding="utf-8")))
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    left, mismatched = [], []
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        if not message.string or message.fuzzy:
            english = table.get(message.id)
            if english is None:
                left.append(message.id)
            elif sorted(PLACEHOLDER.findall(english)) != sorted(PLACEHOLDER.findall(message.id)):
                mismatched.append(message.id)
            else:
                message.string = english
                message.flags.discard("fuzzy")
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=120)
    for msgid in left:
        print(f"untranslated: {msgid}")
    for msgid in mismatched:
        print(f"placeholders differ: {msgid}")
    return 1 if left or mismatched else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
