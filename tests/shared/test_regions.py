from shared.regions import RegionLevel, level_of, region_table


def test_table_vintage_and_zhejiang() -> None:
    table = region_table()
    assert table.vintage >= 2025
    cities = table.children("330000")
    assert len(cities) == 11
    assert sum(len(table.children(c.code)) for c in cities) == 90
    assert table.full_name("330102") == "浙江省杭州市上城区"


def test_every_parent_exists_and_codes_nest() -> None:
    table = region_table()
    for province in table.children(None):
        assert province.level == RegionLevel.province
        for region in table.descendants(province.code):
            assert region.parent in table
            assert region.code[:2] == province.code[:2]


def test_grouping_rows_are_left_out_of_full_names() -> None:
    table = region_table()
    assert table.full_name("429004") == "湖北省仙桃市"
    assert table.full_name("500101") == "重庆市万州区"
    assert table.is_within("500101", "500000")
    assert not table.is_within("330102", "320000")
    assert level_of("330100") == RegionLevel.prefecture
