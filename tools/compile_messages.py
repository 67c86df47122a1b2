"""Compile resources/locale/*/LC_MESSAGES/*.po to .mo: `python -m tools.compile_messages`.

A few dozen strings without plural forms need no gettext toolchain: this reads msgid/msgstr
pairs (with C escapes and continued lines) and writes the GNU .mo layout (magic, counts, two
offset tables, then the strings, sorted by msgid as readers expect).
"""

import ast
import struct
import sys
from pathlib import Path

LOCALE = Path(__file__).resolve().parent.parent / "resources" / "locale"


def read_po(text: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    key: str | None = None
    field = ""
    values: dict[str, str] = {}

    def flush() -> None:
        if "msgid" in values and "msgstr" in values:
            entries[values["msgid"]] = values["msgstr"]
        values.clear()

    for raw in [*text.splitlines(), ""]:
        line = raw.strip()
        if not line:
            flush()
            key = None
        elif line.startswith("#"):
            continue
        elif line.startswith(("msgid ", "msgstr ")):
            key, field = line.split(" ", 1)
            values[key] = ast.literal_eval(field)
        elif line.startswith('"') and key is not None:
            values[key] += ast.literal_eval(line)
    return entries


def mo_bytes(entries: dict[str, str]) -> bytes:
    keys = sorted(entries)
    ids = [k.encode() for k in keys]
    strs = [entries[k].encode() for k in keys]
    header = 7 * 4
    ids_table = header
    strs_table = ids_table + 8 * len(keys)
    offset = strs_table + 8 * len(keys)
    id_index: list[tuple[int, int]] = []
    str_index: list[tuple[int, int]] = []
    blob = b""
    for data, index in ((ids, id_index), (strs, str_index)):
        for item in data:
            index.append((len(item), offset + len(blob)))
            blob += item + b"\0"
    out = struct.pack("<7I", 0x950412DE, 0, len(keys), ids_table, strs_table, 0, 0)
    for length, where in id_index + str_index:
        out += struct.pack("<2I", length, where)
    return out + blob


def main() -> None:
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        po.with_suffix(".mo").write_bytes(mo_bytes(read_po(po.read_text(encoding="utf-8"))))
        print(po.with_suffix(".mo").relative_to(LOCALE.parent.parent), file=sys.stderr)


if __name__ == "__main__":
    main()
