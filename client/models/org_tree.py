"""The organisation tree as plain data, built from the flat list the server returns."""

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
