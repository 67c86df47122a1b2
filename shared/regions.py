"""GB/T 2260 administrative divisions: our year-stamped code table and the rules on it.

The table lives in ``resources/regions/gbt2260-YYYY.csv`` (code, name, parent); the newest
vintage present is used. See ``resources/regions/README.md`` for provenance.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

_TABLE_NAME = re.compile(r"gbt2260-(\d{4})\.csv")
# Prefecture-level rows of GB/T 2260 that group units rather than name a place.
GROUPING_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


class RegionLevel(StrEnum):
    province = "province"
    prefecture = "prefecture"
    county = "county"


def level_of(code: str) -> RegionLevel:
    """The level a 6-digit code's shape implies (xx0000 province, xxxx00 prefecture)."""
    if code.endswith("0000"):
        return RegionLevel.province
    if code.endswith("00"):
        return RegionLevel.prefecture
    return RegionLevel.county


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    parent: str | None

    @property
    def level(self) -> RegionLevel:
        return level_of(self.code)


class RegionTable:
    def __init__(self, vintage: int, regions: list[Region]) -> None:
        self.vintage = vintage
        self._by_code = {r.code: r for r in regions}
        self._children: dict[str | None, list[Region]] = {}
        for region in regions:
            self._children.setdefault(region.parent, []).append(region)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Region | None:
        return self._by_code.get(code)

    def __getitem__(self, code: str) -> Region:
        return self._by_code[code]

    def children(self, code: str | None) -> list[Region]:
        """Direct children; ``None`` gives the provinces."""
        return list(self._children.get(code, ()))

    def ancestors(self, code: str) -> Iterator[Region]:
        """From the region itself up to its province."""
        region = self._by_code.get(code)
        while region is not None:
            yield region
            region = self._by_code.get(region.parent) if region.parent else None

    def is_within(self, code: str, ancestor: str) -> bool:
        """True when ``code`` is ``ancestor`` or lies inside it."""
        return any(r.code == ancestor for r in self.ancestors(code))

    def descendants(self, code: str) -> Iterator[Region]:
        for child in self._children.get(code, ()):
            yield child
            yield from self.descendants(child.code)

    def full_name(self, code: str) -> str:
        """``浙江省杭州市上城区``; grouping rows (市辖区, 县, 省直辖…) are left out."""
        names = [r.name for r in self.ancestors(code) if r.name not in GROUPING_NAMES]
        return "".join(reversed(names))


def parse_table(text: str, vintage: int) -> RegionTable:
    rows = csv.DictReader(io.StringIO(text))
    return RegionTable(
        vintage, [Region(row["code"], row["name"], row["parent"] or None) for row in rows]
    )


@cache
def region_table() -> RegionTable:
    """The newest vintage shipped in ``resources/regions``."""
    folder = resources.files("resources").joinpath("regions")
    found = [
        (int(m.group(1)), entry)
        for entry in folder.iterdir()
        if (m := _TABLE_NAME.fullmatch(entry.name))
    ]
    if not found:
        raise FileNotFoundError("resources/regions 中没有 GB/T 2260 区划代码表")
    vintage, entry = max(found, key=lambda pair: pair[0])
    return parse_table(entry.read_text(encoding="utf-8"), vintage)
