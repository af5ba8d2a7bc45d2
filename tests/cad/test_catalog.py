import filecmp

import pytest

from arinspect.cad.catalog import build_catalog, load_catalog
from arinspect.errors import DataFormatError
from arinspect.resources import CATALOG_DIR


def test_bundled_catalog_has_at_least_8_real_classes():
    catalog = load_catalog()
    assert len(catalog.classes) >= 8
    for entry in catalog.classes.values():
        mesh = entry.mesh()
        assert mesh.is_watertight, entry.name
        assert 0.03 < max(mesh.extents) < 1.0, entry.name  # real sizes, metres
        assert entry.default_tolerance_mm > 0 and entry.mount in {"surface", "inline"}
    with pytest.raises(KeyError, match="unknown part class"):
        catalog["teapot"]


def test_committed_catalog_is_what_the_builder_makes(tmp_path):
    build_catalog(tmp_path)
    assert filecmp.cmp(tmp_path / "catalog.json", CATALOG_DIR / "catalog.json", shallow=False)
    for entry in load_catalog().classes.values():
        fresh = tmp_path / "meshes" / entry.mesh_path.name
        assert filecmp.cmp(fresh, entry.mesh_path, shallow=False), (
            f"{entry.name}: rebuild with `arinspect catalog build`"
        )


def test_malformed_catalog_is_refused_with_its_path(tmp_path):
    (tmp_path / "catalog.json").write_text('{"schema_version": 1, "units": "mm", "classes": []}')
    with pytest.raises(DataFormatError) as info:
        load_catalog(tmp_path)
    assert info.value.path == tmp_path / "catalog.json"
