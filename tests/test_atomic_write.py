"""Atomic file writes."""

from __future__ import annotations

import pytest

from arinspect.atomic_write import write_atomic
from arinspect.errors import ArInspectError


@pytest.mark.parametrize("durable", [False, True])
def test_write_is_atomic_and_names_unwritable_files(tmp_path, durable):
    path = write_atomic(tmp_path / "sub" / "a.glb", b"glTF", durable=durable)
    assert path.read_bytes() == b"glTF" and [p.name for p in path.parent.iterdir()] == ["a.glb"]
    write_atomic(path, b"glTF2", durable=durable)
    assert path.read_bytes() == b"glTF2" and len(list(path.parent.iterdir())) == 1
    (tmp_path / "dir.glb").mkdir()
    with pytest.raises(ArInspectError, match="dir.glb: cannot write"):
        write_atomic(tmp_path / "dir.glb", b"glTF", durable=durable)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
