"""The organisation tree as plain data, built from the flat list the server returns."""

from collections.abc import Iterator
from dataclasses import dataclass, field

from shared.enums import OrgType
from shared.regions import GROUPING_NAMES, RegionLevel, region_table
from shared.schemas.orgs import OrgPublic

_LEVEL_FOR_TYPE = {
    OrgType.province_department: RegionLevel.province,
    OrgType.city_bureau: RegionLevel.prefecture,
    OrgType.county_bureau: RegionLevel.county,
    OrgType.police_station: RegionLevel.county,
}


@dataclass
class OrgTree:
    by_id: dict[int, OrgPublic] = field(default_factory=dict)
    children: dict[int | None, list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, orgs: list[OrgPublic]) -> "OrgTree":
        tree = cls({o.id: o for o in orgs})
        for org in sorted(orgs, key=lambda o: (o.depth, o.region_code, o.id)):
            parent = org.parent_id if org.parent_id in tree.by_id else None
            tree.children.setdefault(parent, []).append(org.id)
        return tree

    def roots(self) -> list[OrgPublic]:
        return [self.by_id[i] for i in self.children.get(None, [])]

    def lineage(self, org_id: int) -> set[int]:
        """The organisation and every ancestor of it that is in the tree."""
        found: set[int] = set()
        org = self.by_id.get(org_id)
        while org is not None and org.id not in found:
            found.add(org.id)
            org = self.by_id.get(org.parent_id) if org.parent_id else None
        return found

    def kids(self, org_id: int) -> list[OrgPublic]:
        return [self.by_id[i] for i in self.children.get(org_id, [])]

    def walk(self) -> Iterator[OrgPublic]:
        """Every organisation in the order the tree shows them (parents before children)."""
        stack = list(reversed(self.roots()))
        while stack:
            org = stack.pop()
            yield org
            stack.extend(reversed(self.kids(org.id)))


def matches_org(org: OrgPublic, query: str) -> bool:
    """The search rule: the name contains the text, or the region code starts with it (3301
    finds 杭州 and everything in it)."""
    text = query.strip().casefold()
    return bool(text) and (text in org.name.casefold() or org.region_code.startswith(text))


@dataclass
class OrgSearch:
    """Typing in the tree's search box, as plain state: the matches in the tree's order, the
    organisations to show (the matches and their ancestors; None: the whole tree) and which
    match Enter selects next."""

    tree: OrgTree = field(default_factory=OrgTree)
    query: str = ""
    matches: list[int] = field(default_factory=list)
    shown: set[int] | None = None
    position: int = -1

    def set_query(self, query: str, tree: OrgTree | None = None) -> None:
        """A new text (or the same text over a reloaded ``tree``)."""
        if tree is not None:
            self.tree = tree
        self.query, self.position = query, -1
        if not query.strip():
            self.matches, self.shown = [], None
            return
        self.matches = [o.id for o in self.tree.walk() if matches_org(o, query)]
        self.shown = set().union(*(self.tree.lineage(i) for i in self.matches))

    def next_match(self) -> int | None:
        """The match after the last one chosen, round again after the last (None: none)."""
        if not self.matches:
            return None
        self.position = (self.position + 1) % len(self.matches)
        return self.matches[self.position]

    def summary(self) -> str:
        if self.shown is None:
            return ""
        if not self.matches:
            return "没有匹配的机构"
        at = f"，第 {self.position + 1} 个" if self.position >= 0 else ""
        return f"找到 {len(self.matches)} 个机构{at}（回车：下一个）"


def child_types(parent: OrgType) -> list[OrgType]:
    """Types that may sit under ``parent`` (the server checks the same rule)."""
    if parent == OrgType.office:
        return [OrgType.office]
    rank = parent.rank or 0
    return [t for t in OrgType if t == OrgType.office or (t.rank or 0) > rank]


def region_choices(parent_region: str, org_type: OrgType) -> list[tuple[str, str]]:
    """(code, full name) of regions inside the parent's region that fit the type's level."""
    table = region_table()
    level = _LEVEL_FOR_TYPE.get(org_type)
    candidates = [table[parent_region], *table.descendants(parent_region)]
    result = []
    for region in candidates:
        if region.name in GROUPING_NAMES:
            continue
        childless = region.level == RegionLevel.prefecture and not table.children(region.code)
        if level is None or region.level == level or (level == RegionLevel.county and childless):
            result.append((region.code, table.full_name(region.code)))
    return result
