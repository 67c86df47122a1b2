"""``client/files``: a file the desk writes is whole under its name, or not there at all."""

from pathlib import Path

import pytest

from client.files import replacing, write_atomically


def test_the_name_holds_nothing_until_the_file_is_whole(tmp_path: Path) -> None:
    target = tmp_path / "导出.xlsx"
    target.write_bytes(b"old")
    with replacing(target) as partial:
        partial.write_bytes(b"half")
        assert target.read_bytes() == b"old"  # a reader meanwhile sees the old file, whole
        partial.write_bytes(b"new, whole")
    assert target.read_bytes() == b"new, whole"
    assert [p.name for p in tmp_path.iterdir()] == ["导出.xlsx"]


def test_a_failed_write_leaves_the_old_file_and_no_part(tmp_path: Path) -> None:
    target = tmp_path / "证书.pdf"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), replacing(target) as partial:
        partial.write_bytes(b"ha")
        raise RuntimeError("the server went away")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["证书.pdf"]
    write_atomically(tmp_path / "new.pdf", b"%PDF")
    assert (tmp_path / "new.pdf").read_bytes() == b"%PDF"
