"""Tests of the part catalog's parametric meshes: validity, size, frames and features."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import trimesh

from arinspect.cad.parts import PART_CLASSES, build_part_mesh
from arinspect.cad.standard_sizes import PIPE_AXIS_HEIGHT_M, PIPE_OD_M
from arinspect.errors import ConfigError

NAMES = [
    "tripping_bracket",
    "collar_plate",
    "lifting_lug",
    "handhole_frame",
    "pipe_clamp",
    "flanged_valve",
    "flange_pair",
    "pipe_penetration_sleeve",
    "cable_tray_hanger",
]
SURFACE = [n for n in NAMES if n not in ("flanged_valve", "flange_pair")]
INLINE = ["flanged_valve", "flange_pair"]

# Expected bounds (min corner, max corner) in metres, as stated in each builder's docstring.
BOUNDS = {
    "tripping_bracket": [(0.0, -0.0375, 0.0), (0.300, 0.0375, 0.300)],
    "collar_plate": [(-0.130, 0.0, 0.0), (0.130, 0.310, 0.012)],
    "lifting_lug": [(-0.150, -0.050, 0.0), (0.150, 0.050, 0.215)],
    "handhole_frame": [(-0.260, -0.210, 0.0), (0.260, 0.210, 0.039)],
    "pipe_clamp": [(-0.100, -0.100, 0.0), (0.100, 0.100, 0.515)],
    "flanged_valve": [(-0.125, -0.125, -0.110), (0.125, 0.125, 0.430)],
    "flange_pair": [(-0.100, -0.110, -0.110), (0.100, 0.110, 0.110)],
    "pipe_penetration_sleeve": [(-0.140, -0.140, 0.0), (0.140, 0.140, 0.150)],
    "cable_tray_hanger": [(-0.075, -0.150, 0.0), (0.350, 0.150, 0.410)],
}

# Genus of each (single-body) part: its through holes and closed loops of material.
GENUS = {
    "tripping_bracket": 0,
    "collar_plate": 0,
    "lifting_lug": 1,  # shackle hole
    "handhole_frame": 1,  # the opening
    "pipe_clamp": 1,  # clamp ring around the pipe
    "flanged_valve": 21,  # bore + 2 x 8 bolt holes + 4 handwheel openings
    "flange_pair": 9,  # bore + 8 bolts bridging the gap between the flanges
    "pipe_penetration_sleeve": 1,  # sleeve bore
    "cable_tray_hanger": 3,  # brace triangle + 2 ladder openings between 3 rungs
}


@pytest.fixture(scope="module")
def meshes() -> dict[str, trimesh.Trimesh]:
    return {name: build_part_mesh(name) for name in NAMES}


def _section_polygons(mesh: trimesh.Trimesh, origin, normal) -> list:
    """Return the filled polygons (with holes) of a plane section, largest first."""
    path = mesh.section(plane_origin=origin, plane_normal=normal)
    assert path is not None, f"plane through {origin} misses the mesh"
    planar, _ = path.to_2D()
    return sorted(planar.polygons_full, key=lambda p: p.area, reverse=True)


def _hits(mesh: trimesh.Trimesh, origins, direction) -> np.ndarray:
    origins = np.asarray(origins, dtype=np.float64)
    directions = np.tile(np.asarray(direction, dtype=np.float64), (len(origins), 1))
    return mesh.ray.intersects_any(origins, directions)


def _ring(radius: float, count: int = 12) -> np.ndarray:
    angles = 2.0 * np.pi * (np.arange(count) + 0.5) / count
    return radius * np.column_stack([np.cos(angles), np.sin(angles)])


def test_catalog_lists_the_nine_classes_in_order() -> None:
    assert list(PART_CLASSES) == NAMES
    for name, part in PART_CLASSES.items():
        assert part.name == name
        assert part.title and part.description.endswith(".")
        assert part.mount == ("inline" if name in INLINE else "surface")
        assert 0.0 < part.default_tolerance_mm <= 20.0
        assert 0.0 < part.default_tolerance_deg <= 10.0


def test_part_class_is_frozen() -> None:
    part = PART_CLASSES["lifting_lug"]
    with pytest.raises(AttributeError):
        part.name = "other"  # type: ignore[misc]


def test_unknown_class_raises_config_error_listing_known_names() -> None:
    with pytest.raises(ConfigError, match=r"unknown part class 'bollard'; known: tripping_bracket"):
        build_part_mesh("bollard")


@pytest.mark.parametrize("name", NAMES)
def test_mesh_is_one_closed_outward_volume_within_budget(
    meshes: dict[str, trimesh.Trimesh], name: str
) -> None:
    mesh = meshes[name]
    assert mesh.is_watertight
    assert mesh.is_winding_consistent
    assert mesh.is_volume  # includes positive volume, i.e. outward normals
    assert mesh.body_count == 1
    assert mesh.volume > 2e-4  # > 200 cm^3 of steel: no part is a sliver
    assert 12 < len(mesh.faces) <= 3000


@pytest.mark.parametrize("name", NAMES)
def test_bounds_match_the_documented_size(meshes: dict[str, trimesh.Trimesh], name: str) -> None:
    np.testing.assert_allclose(meshes[name].bounds, BOUNDS[name], atol=0.0015)


@pytest.mark.parametrize("name", NAMES)
def test_genus_shows_the_characteristic_holes(
    meshes: dict[str, trimesh.Trimesh], name: str
) -> None:
    mesh = meshes[name]
    assert (2 - mesh.euler_number) // 2 == GENUS[name]


@pytest.mark.parametrize("name", SURFACE)
def test_surface_part_stands_on_z0_with_a_real_footprint(
    meshes: dict[str, trimesh.Trimesh], name: str
) -> None:
    mesh = meshes[name]
    assert mesh.vertices[:, 2].min() == pytest.approx(0.0, abs=1e-9)
    on_surface = np.all(np.abs(mesh.vertices[mesh.faces][:, :, 2]) < 1e-9, axis=1)
    facing_down = mesh.face_normals[:, 2] < -0.999
    footprint = mesh.area_faces[on_surface & facing_down].sum()
    assert footprint > 0.003  # m^2; the smallest is the bracket's 265 x 12 mm weld edge


@pytest.mark.parametrize("name", INLINE)
def test_inline_part_is_centred_on_a_clear_pipe_axis(
    meshes: dict[str, trimesh.Trimesh], name: str
) -> None:
    mesh = meshes[name]
    lo, hi = mesh.bounds
    assert lo[0] == pytest.approx(-hi[0], abs=1e-6)
    assert lo[1] == pytest.approx(-hi[1], abs=1e-6)
    assert lo[2] == pytest.approx(-0.110, abs=1e-3)  # flange rim below the axis
    # The bore along +x is clear near the axis and blocked past the pipe wall.
    near = np.column_stack([np.full(12, -1.0), _ring(0.045)])
    far = np.column_stack([np.full(12, -1.0), _ring(PIPE_OD_M / 2.0 + 0.005)])
    assert not _hits(mesh, near, (1.0, 0.0, 0.0)).any()
    assert _hits(mesh, far, (1.0, 0.0, 0.0)).all()


def test_tripping_bracket_has_snipe_and_face_flat(meshes: dict[str, trimesh.Trimesh]) -> None:
    mesh = meshes["tripping_bracket"]
    inside = mesh.contains(
        [
            (0.012, 0.0, 0.012),  # heel corner: sniped off
            (0.100, 0.0, 0.050),  # bracket web
            (0.100, 0.030, 0.050),  # beside the 12 mm web
            (0.166, 0.030, 0.166),  # face flat, 30 mm off the web's mid-plane
        ]
    )
    assert inside.tolist() == [False, True, False, True]


def test_collar_plate_has_a_t_bar_notch(meshes: dict[str, trimesh.Trimesh]) -> None:
    mesh = meshes["collar_plate"]
    z = 0.006
    inside = mesh.contains(
        [
            (0.0, 0.10, z),  # stiffener web passes here
            (0.055, 0.255, z),  # stiffener flange passes here
            (0.080, 0.10, z),  # plate beside the web
            (0.0, 0.295, z),  # plate bridging over the flange
        ]
    )
    assert inside.tolist() == [False, False, True, True]


def test_lifting_lug_has_a_shackle_hole_with_cheeks(meshes: dict[str, trimesh.Trimesh]) -> None:
    mesh = meshes["lifting_lug"]
    hole_z = 0.140
    hole = _hits(mesh, [(0.0, -1.0, hole_z), (0.0, -1.0, hole_z + 0.04)], (0.0, 1.0, 0.0))
    assert hole.tolist() == [False, True]
    assert len(_section_polygons(mesh, (0.0, 0.0, hole_z), (0.0, 0.0, 1.0))) == 2
    # Cheek rings thicken the 25 mm lug to 55 mm around the hole, not lower down.
    beside_hole = mesh.section(plane_origin=(0.0, 0.0, hole_z), plane_normal=(0.0, 0.0, 1.0))
    low_down = mesh.section(plane_origin=(0.0, 0.0, 0.05), plane_normal=(0.0, 0.0, 1.0))
    assert np.ptp(beside_hole.vertices[:, 1]) == pytest.approx(0.055, abs=1e-6)
    assert np.ptp(low_down.vertices[:, 1]) == pytest.approx(0.025, abs=1e-6)


def test_handhole_frame_is_an_open_ring_with_16_studs(
    meshes: dict[str, trimesh.Trimesh],
) -> None:
    mesh = meshes["handhole_frame"]
    assert not _hits(mesh, [(0.0, 0.0, 1.0), (0.17, 0.12, 1.0)], (0.0, 0.0, -1.0)).any()
    ring = _section_polygons(mesh, (0.0, 0.0, 0.01), (0.0, 0.0, 1.0))
    assert len(ring) == 1 and len(ring[0].interiors) == 1
    assert ring[0].area == pytest.approx(0.52 * 0.42 - 0.40 * 0.30, rel=0.1)
    nuts = _section_polygons(mesh, (0.0, 0.0, 0.03), (0.0, 0.0, 1.0))
    assert len(nuts) == 16


def test_pipe_clamp_grips_the_pipe_at_axis_height(meshes: dict[str, trimesh.Trimesh]) -> None:
    mesh = meshes["pipe_clamp"]
    # Rays along the pipe axis (+x) at radii around it, away from the split plane.
    axis = np.array([0.0, PIPE_AXIS_HEIGHT_M])
    inner = _ring(PIPE_OD_M / 2.0 - 0.0006) + axis
    band = _ring(PIPE_OD_M / 2.0 + 0.004) + axis
    inner_hits = _hits(mesh, np.column_stack([np.full(12, -1.0), inner]), (1.0, 0.0, 0.0))
    band_hits = _hits(mesh, np.column_stack([np.full(12, -1.0), band]), (1.0, 0.0, 0.0))
    assert not inner_hits.any()
    assert band_hits.all()
    # The two clamp halves are split at axis height; only the 2 bolts cross the gap.
    split = _section_polygons(mesh, (0.0, 0.0, PIPE_AXIS_HEIGHT_M), (0.0, 0.0, 1.0))
    assert len(split) == 2
    assert split[0].area == pytest.approx(np.pi * 0.006**2, rel=0.15)


def test_flanged_valve_has_bolt_holes_and_a_handwheel_above_the_body(
    meshes: dict[str, trimesh.Trimesh],
) -> None:
    mesh = meshes["flanged_valve"]
    flange = _section_polygons(mesh, (0.115, 0.0, 0.0), (1.0, 0.0, 0.0))[0]
    assert len(flange.interiors) == 9  # bore + 8 bolt holes
    wheel = _section_polygons(mesh, (0.0, 0.0, 0.40), (0.0, 0.0, 1.0))
    assert len(wheel) == 1 and len(wheel[0].interiors) == 4  # rim, 4 spokes, hub
    assert np.ptp(np.asarray(wheel[0].exterior.coords), axis=0) == pytest.approx(
        [0.25, 0.25], abs=0.002
    )
    stem = _section_polygons(mesh, (0.0, 0.0, 0.30), (0.0, 0.0, 1.0))
    assert len(stem) == 1 and stem[0].area == pytest.approx(np.pi * 0.012**2, rel=0.05)


def test_flange_pair_has_eight_bolts_with_nuts_and_heads(
    meshes: dict[str, trimesh.Trimesh],
) -> None:
    mesh = meshes["flange_pair"]
    for x in (-0.03, 0.03):  # heads on -x, nuts on +x, around the neck
        polygons = _section_polygons(mesh, (x, 0.0, 0.0), (1.0, 0.0, 0.0))
        assert len(polygons) == 9
        assert len(polygons[0].interiors) == 1  # the neck around the bore
        hexagon_area = np.sqrt(3.0) / 2.0 * 0.024**2  # M16 head / nut, 24 mm across flats
        assert [p.area for p in polygons[1:]] == pytest.approx(8 * [hexagon_area], rel=1e-3)
    gap = _section_polygons(mesh, (0.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    assert len(gap) == 9  # gasket ring + 8 bolt shanks across the gap


def test_sleeve_bore_clears_the_pipe(meshes: dict[str, trimesh.Trimesh]) -> None:
    mesh = meshes["pipe_penetration_sleeve"]
    clear = np.column_stack([_ring(PIPE_OD_M / 2.0 + 0.015), np.full(12, -1.0)])
    wall = np.column_stack([_ring(0.080), np.full(12, -1.0)])
    assert not _hits(mesh, clear, (0.0, 0.0, 1.0)).any()
    assert _hits(mesh, wall, (0.0, 0.0, 1.0)).all()
    doubler = _section_polygons(mesh, (0.0, 0.0, 0.006), (0.0, 0.0, 1.0))[0]
    assert doubler.area == pytest.approx(np.pi * (0.14**2 - 0.07615**2), rel=0.03)


def test_cable_tray_hanger_carries_a_ladder_tray(meshes: dict[str, trimesh.Trimesh]) -> None:
    mesh = meshes["cable_tray_hanger"]
    between_rungs = _section_polygons(mesh, (0.0, 0.13, 0.0), (0.0, 1.0, 0.0))
    assert len(between_rungs) == 2  # the two side rails only
    through_rung = _section_polygons(mesh, (0.0, 0.10, 0.0), (0.0, 1.0, 0.0))
    assert len(through_rung) == 1
    # The arm's top is the tray seat at 0.35 m; nothing but the tray rises above it.
    above = mesh.vertices[mesh.vertices[:, 2] > 0.351]
    assert above[:, 0].min() == pytest.approx(0.13, abs=1e-6)


def test_classes_are_pairwise_distinguishable_by_size(
    meshes: dict[str, trimesh.Trimesh],
) -> None:
    features = {n: np.r_[m.extents, np.cbrt(m.volume)] for n, m in meshes.items()}
    for a, b in itertools.combinations(NAMES, 2):
        fa, fb = features[a], features[b]
        difference = np.max(np.abs(fa - fb) / np.maximum(fa, fb))
        assert difference > 0.2, f"{a} and {b} have near-identical extents and volume"


@pytest.mark.parametrize("name", NAMES)
def test_building_is_deterministic(meshes: dict[str, trimesh.Trimesh], name: str) -> None:
    again = build_part_mesh(name)
    np.testing.assert_array_equal(again.vertices, meshes[name].vertices)
    np.testing.assert_array_equal(again.faces, meshes[name].faces)
    assert again is not meshes[name]
