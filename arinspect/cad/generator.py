"""Procedural ship-section generator: a panel block with its outfitting and fiducial markers.

`generate_section(seed, out_dir)` writes a complete section folder (``section.json`` and
meshes). The block (section frame: x along the longitudinals, y across, z out of the
shell plate into the structure, plate surface at z = 0, metres) has T-bar longitudinals
passing through slotted transverse web frames, and places catalog parts where they
belong: collar plates on the slots, brackets at the web frame foot, handhole frames on
lightening holes, pipe runs with penetration sleeves, clamps, valves and flange pairs,
cable-tray hangers, lifting lugs. Markers sit on free steel, at least 3 of them control.
Ids are location codes as yards use them, e.g. ``COL-F2-L3`` (collar, frame 2, long. 3).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from arinspect import __version__
from arinspect.cad import hull
from arinspect.cad import standard_sizes as sz
from arinspect.cad.catalog import Catalog, load_catalog
from arinspect.cad.section import Marker, Part, Section, StructureElement, save_section
from arinspect.errors import ConfigError
from arinspect.geometry import T_from_axes, transform_points
from arinspect.markers import dictionary_size
from arinspect.typed import FloatArray

X, Y, Z = np.eye(3)
MIN_PARTS, MAX_PARTS = 30, 80


@dataclass(frozen=True)
class GeneratorConfig:
    """Knobs of the generator.

    Attributes:
        marker_family: Dictionary of the printed markers.
        marker_size_m: Side of a marker's black square, metres.
        marker_count: Inclusive range of how many markers to place.
    """

    marker_family: str = "DICT_5X5_250"
    marker_size_m: float = 0.2
    marker_count: tuple[int, int] = (11, 12)


@dataclass(frozen=True)
class BlockLayout:
    """Main dimensions of a generated block, metres (section frame)."""

    frame_x: tuple[float, ...]
    longitudinal_y: tuple[float, ...]
    length_m: float
    width_m: float
    web_height_m: float
    pipe_bays: tuple[int, ...]
    cable_bay: int | None

    @property
    def bay_y(self) -> tuple[float, ...]:
        """Centre (y, metres) of each bay between two neighbouring longitudinals."""
        ys = self.longitudinal_y
        return tuple((a + b) / 2 for a, b in zip(ys[:-1], ys[1:], strict=True))

    @property
    def open_bays(self) -> tuple[int, ...]:
        """Bays without a pipe run (they get lightening holes and brackets)."""
        return tuple(b for b in range(len(self.bay_y)) if b not in self.pipe_bays)


def _layout(rng: np.random.Generator) -> BlockLayout:
    n_frames = int(rng.integers(2, 4))
    frame_spacing = round(float(rng.uniform(1.8, 2.4)) / 0.05) * 0.05
    n_long = int(rng.integers(4, 7))
    long_spacing = float(rng.choice([0.6, 0.65, 0.7, 0.75, 0.8]))
    n_bays = n_long - 1
    n_pipes = int(rng.integers(1, 3))
    bays = [int(b) for b in rng.permutation(n_bays)]
    pipe_bays = tuple(sorted(bays[:n_pipes]))
    cable_bay = bays[n_pipes] if n_bays > n_pipes else None
    return BlockLayout(
        frame_x=tuple(frame_spacing * (k + 0.5) for k in range(n_frames)),
        longitudinal_y=tuple(long_spacing * (j + 0.5) for j in range(n_long)),
        length_m=frame_spacing * n_frames,
        width_m=long_spacing * n_long,
        web_height_m=round(float(rng.uniform(1.1, 1.3)) / 0.05) * 0.05,
        pipe_bays=pipe_bays,
        cable_bay=cable_bay,
    )


class _PartPlacer:
    """Collects parts with location-coded ids and their world-axis bounding boxes."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.parts: list[Part] = []
        self.boxes: list[FloatArray] = []

    def add(
        self, part_id: str, class_name: str, T_section_part: FloatArray, mounted_on: str
    ) -> None:
        entry = self.catalog[class_name]
        self.parts.append(
            Part(
                part_id,
                class_name,
                f"meshes/parts/{class_name}.ply",
                T_section_part,
                entry.default_tolerance_mm,
                entry.default_tolerance_deg,
                mounted_on,
            )
        )
        corners = trimesh.bounds.corners(entry.mesh().bounds)
        pts = transform_points(T_section_part, corners)
        self.boxes.append(np.stack([pts.min(axis=0), pts.max(axis=0)]))


def _web_face(frame_x: float, side: int) -> tuple[FloatArray, FloatArray, float]:
    """Axes of a surface part on web frame face `side` (+1 fore, -1 aft): x, z and face x."""
    z_axis = side * X
    x_axis = np.cross(Z, z_axis)  # so that part y = section z (up)
    return x_axis, z_axis, frame_x + side * sz.WEB_FRAME_THICKNESS_M / 2


def _place_frame_parts(placer: _PartPlacer, layout: BlockLayout, rng: np.random.Generator) -> None:
    bay_y = layout.bay_y
    for f, fx in enumerate(layout.frame_x, start=1):
        frame_id = f"F{f}"
        for j, y in enumerate(layout.longitudinal_y, start=1):
            if rng.random() < 0.85:
                x_axis, z_axis, x_face = _web_face(fx, int(rng.choice([-1, 1])))
                T = T_from_axes(x_axis, z_axis, [x_face, y, 0.0])
                placer.add(f"COL-{frame_id}-L{j}", "collar_plate", T, frame_id)
        for b in layout.open_bays:
            for side, tag in ((-1, "A"), (1, "F")):
                if rng.random() < 0.6:
                    x_face = fx + side * sz.WEB_FRAME_THICKNESS_M / 2
                    T = T_from_axes(side * X, Z, [x_face, bay_y[b], 0.0])
                    placer.add(f"BKT-{frame_id}-B{b + 1}{tag}", "tripping_bracket", T, "SHELL")
            if rng.random() < 0.45:
                x_axis, z_axis, x_face = _web_face(fx, int(rng.choice([-1, 1])))
                origin = [x_face, bay_y[b], hull.LIGHTENING_HOLE_CENTRE_Z_M]
                T = T_from_axes(x_axis, z_axis, origin)
                placer.add(f"HHF-{frame_id}-B{b + 1}", "handhole_frame", T, frame_id)
        for p, b in enumerate(layout.pipe_bays, start=1):
            x_axis, z_axis, x_face = _web_face(fx, int(rng.choice([-1, 1])))
            T = T_from_axes(x_axis, z_axis, [x_face, bay_y[b], sz.PIPE_AXIS_HEIGHT_M])
            placer.add(f"PEN-{frame_id}-P{p}", "pipe_penetration_sleeve", T, frame_id)
        lug_y = float(rng.uniform(0.25, layout.width_m - 0.25))
        top = layout.web_height_m + hull.FACE_FLAT_THICKNESS_M
        placer.add(f"LUG-{frame_id}", "lifting_lug", T_from_axes(Y, Z, [fx, lug_y, top]), frame_id)


def _free_positions(layout: BlockLayout, count: int, rng: np.random.Generator) -> list[float]:
    """Up to `count` x positions (m), 0.45 m or more from frames, block ends and each other."""
    candidates = np.arange(0.35, layout.length_m - 0.35, 0.05)
    frames = np.asarray(layout.frame_x)
    candidates = candidates[np.abs(candidates[:, None] - frames[None]).min(axis=1) > 0.35]
    chosen: list[float] = []
    for x in rng.permutation(candidates):
        if all(abs(x - c) >= 0.45 for c in chosen):
            chosen.append(float(x))
        if len(chosen) == count:
            break
    return sorted(chosen)


def _place_pipe_and_plate_parts(
    placer: _PartPlacer, layout: BlockLayout, rng: np.random.Generator
) -> None:
    bay_y = layout.bay_y
    n_spans = len(layout.frame_x) + 1
    for p, b in enumerate(layout.pipe_bays, start=1):
        n_valves, n_flanges = 1, int(rng.integers(1, 3))
        xs = list(_free_positions(layout, n_spans + n_valves + n_flanges, rng))
        kinds = (
            ["pipe_clamp"] * (len(xs) - n_valves - n_flanges)
            + ["flanged_valve"]
            + ["flange_pair"] * n_flanges
        )
        prefix = {"pipe_clamp": "CLP", "flanged_valve": "VLV", "flange_pair": "FLG"}
        counters = dict.fromkeys(prefix, 0)
        for x, kind in zip(xs, rng.permutation(kinds), strict=True):
            counters[kind] += 1
            part_id = f"{prefix[kind]}-P{p}-{counters[kind]}"
            if kind == "pipe_clamp":
                placer.add(part_id, kind, T_from_axes(X, Z, [x, bay_y[b], 0.0]), "SHELL")
            else:
                placer.add(
                    part_id,
                    kind,
                    T_from_axes(X, Z, [x, bay_y[b], sz.PIPE_AXIS_HEIGHT_M]),
                    f"PIPE{p}",
                )
    if layout.cable_bay is not None:
        for k, x in enumerate(_free_positions(layout, n_spans, rng), start=1):
            T = T_from_axes(Y, Z, [x, bay_y[layout.cable_bay], 0.0])
            placer.add(f"CTH-{k}", "cable_tray_hanger", T, "SHELL")
    free_bays = [b for b in layout.open_bays if b != layout.cable_bay] or list(layout.open_bays)
    for k, x in enumerate((0.3, layout.length_m - 0.3), start=1):
        y = bay_y[int(rng.choice(free_bays))]
        placer.add(f"LUG-S{k}", "lifting_lug", T_from_axes(X, Z, [x, y, 0.0]), "SHELL")


def _marker_candidates(layout: BlockLayout, size_m: float) -> list[tuple[FloatArray, str]]:
    """Marker poses on free steel: plate between longitudinals, and web frame faces up high."""
    candidates = []
    lift = 0.0005  # printed sheet stands proud of the steel, avoids coincident surfaces
    for b in layout.open_bays:  # pipe runs would hide markers below them
        b_y = layout.bay_y[b]
        for x in np.arange(0.3, layout.length_m - 0.25, 0.25):
            candidates.append((T_from_axes(X, Z, [x, b_y, lift]), "SHELL"))
    z = layout.web_height_m - size_m
    for f, fx in enumerate(layout.frame_x, start=1):
        for b_y in layout.bay_y:
            for side in (-1, 1):
                x_axis, z_axis, x_face = _web_face(fx, side)
                T = T_from_axes(x_axis, z_axis, [x_face + side * lift, b_y, z])
                candidates.append((T, f"F{f}"))
    return candidates


def _clear_of(
    T_section_marker: FloatArray, half_extent_m: float, boxes: list[FloatArray], layout: BlockLayout
) -> bool:
    corners = np.array([[sx, sy, 0.0] for sx in (-1, 1) for sy in (-1, 1)]) * half_extent_m
    pts = transform_points(T_section_marker, corners)
    lo, hi = pts.min(axis=0) - 0.01, pts.max(axis=0) + 0.01
    for box in boxes:
        if np.all(lo <= box[1]) and np.all(box[0] <= hi):
            return False
    if T_section_marker[2, 2] > 0.5:  # on the plate: keep off longitudinals and web frames
        near_long = min(abs(T_section_marker[1, 3] - y) for y in layout.longitudinal_y)
        near_frame = min(abs(T_section_marker[0, 3] - x) for x in layout.frame_x)
        return near_long > half_extent_m + 0.06 and near_frame > half_extent_m + 0.1
    return True


def _place_markers(
    boxes: list[FloatArray], layout: BlockLayout, config: GeneratorConfig, rng: np.random.Generator
) -> list[Marker]:
    half = config.marker_size_m * 0.75  # the printed sheet has a white margin
    candidates = [
        c
        for c in _marker_candidates(layout, config.marker_size_m)
        if _clear_of(c[0], half, boxes, layout)
    ]
    count = min(
        int(rng.integers(config.marker_count[0], config.marker_count[1] + 1)), len(candidates)
    )
    if count < 6:
        raise ConfigError(f"only {len(candidates)} free places for markers in this block")
    centres = np.array([c[0][:3, 3] for c in candidates])
    chosen = [int(rng.integers(len(candidates)))]
    distance = np.linalg.norm(centres - centres[chosen[0]], axis=1)
    while len(chosen) < count:  # farthest-point sampling spreads markers over the block
        nxt = int(np.argmax(distance))
        chosen.append(nxt)
        distance = np.minimum(distance, np.linalg.norm(centres - centres[nxt], axis=1))
    n_control = int(rng.integers(3, 5))  # the first picks are the farthest apart
    ids = rng.choice(dictionary_size(config.marker_family), size=count, replace=False)
    return [
        Marker(
            int(ids[k]),
            config.marker_family,
            config.marker_size_m,
            candidates[i][0],
            k < n_control,
            candidates[i][1],
        )
        for k, i in enumerate(chosen)
    ]


def _structure(layout: BlockLayout) -> list[StructureElement]:
    elements = [
        StructureElement("SHELL", "meshes/structure/shell_plate.ply", np.eye(4), "shell_plate")
    ]
    elements += [
        StructureElement(
            f"L{j}",
            "meshes/structure/longitudinal.ply",
            hull.translation(0.0, y, 0.0),
            "longitudinal",
        )
        for j, y in enumerate(layout.longitudinal_y, start=1)
    ]
    elements += [
        StructureElement(
            f"F{f}", "meshes/structure/web_frame.ply", hull.translation(x, 0.0, 0.0), "web_frame"
        )
        for f, x in enumerate(layout.frame_x, start=1)
    ]
    elements += [
        StructureElement(
            f"PIPE{p}",
            "meshes/structure/pipe.ply",
            hull.translation(0.0, layout.bay_y[b], sz.PIPE_AXIS_HEIGHT_M),
            "pipe",
        )
        for p, b in enumerate(layout.pipe_bays, start=1)
    ]
    return elements


def _write_structure_meshes(layout: BlockLayout, folder: Path) -> None:
    web_layout = hull.WebFrameLayout(
        width_m=layout.width_m,
        height_m=layout.web_height_m,
        slot_y_m=layout.longitudinal_y,
        lightening_hole_y_m=tuple(layout.bay_y[b] for b in layout.open_bays),
        penetration_y_m=tuple(layout.bay_y[b] for b in layout.pipe_bays),
    )
    meshes = {
        "shell_plate": hull.shell_plate_mesh(layout.length_m, layout.width_m),
        "longitudinal": hull.longitudinal_mesh(layout.length_m),
        "web_frame": hull.web_frame_mesh(web_layout),
        "pipe": hull.pipe_mesh(layout.length_m),
    }
    (folder / "meshes" / "structure").mkdir(parents=True, exist_ok=True)
    for name, mesh in meshes.items():
        (folder / "meshes" / "structure" / f"{name}.ply").write_bytes(
            mesh.export(file_type="ply", encoding="binary")
        )


def generate_section(
    seed: int,
    out_dir: str | Path,
    catalog: Catalog | None = None,
    config: GeneratorConfig = GeneratorConfig(),
) -> Section:
    """Generate a block from `seed` and write it as a section folder.

    The same seed always gives the same section. Part meshes are copied from the catalog
    into ``OUT/meshes/parts``; hull meshes go to ``OUT/meshes/structure``.

    Returns:
        The section as written.
    """
    catalog = catalog or load_catalog()
    out_dir = Path(out_dir)
    for attempt in range(20):  # a few layouts fall outside the part-count range: draw again
        rng = np.random.default_rng([seed, attempt])
        layout = _layout(rng)
        placer = _PartPlacer(catalog)
        _place_frame_parts(placer, layout, rng)
        _place_pipe_and_plate_parts(placer, layout, rng)
        if MIN_PARTS <= len(placer.parts) <= MAX_PARTS:
            break
    else:
        raise ConfigError(f"seed {seed}: no layout with {MIN_PARTS}-{MAX_PARTS} parts")
    markers = _place_markers(placer.boxes, layout, config, rng)
    _write_structure_meshes(layout, out_dir)
    (out_dir / "meshes" / "parts").mkdir(parents=True, exist_ok=True)
    for class_name in sorted({p.class_name for p in placer.parts}):
        shutil.copyfile(
            catalog[class_name].mesh_path, out_dir / "meshes" / "parts" / f"{class_name}.ply"
        )
    section = Section(
        name=f"block-{seed}",
        folder=out_dir.resolve(),
        description=(
            f"Generated panel block {layout.length_m:.2f} x {layout.width_m:.2f} m:"
            f" {len(layout.frame_x)} web frames, {len(layout.longitudinal_y)} longitudinals,"
            f" {len(layout.pipe_bays)} pipe run(s)"
        ),
        structure=tuple(_structure(layout)),
        parts=tuple(placer.parts),
        markers=tuple(markers),
        provenance={
            "tool": f"arinspect {__version__}",
            "command": f"arinspect section generate --seed {seed}",
            "seed": seed,
        },
    )
    save_section(section, out_dir)
    return section
