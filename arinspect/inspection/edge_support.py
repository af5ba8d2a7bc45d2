"""Whether a part's drawn edges show in the image: evidence of presence without the detector.

At a part's drawn place, its own creases and contours are sampled where the CAD says they
are in view. Samples where the structure alone would make an image edge are left out: a
3-D edge of the part within 1 cm of one of the structure's (the rim along the steel it
sits on), and, view by view, a sample whose two sides the section without its parts shows
as different elements or faces bent apart (a clamp's rim along its pipe's contour, a
sleeve's along the hole it fills). Those show whether or not the part is there. A sample
is supported when the image has a gradient of at least `EdgeSupportConfig.min_gradient`
across it within `EdgeSupportConfig.search_px`. A part that is there shows many of its
edges; at the place of a removed part only clutter lines up with them. On the six tuning
recordings of `benchmarks/bench_inspection.py` seen from their true poses, median per part
over its looks: removed parts 0.00-0.15 (0.05-0.30 when the structure's edges counted),
parts in place 0.21 or more (brackets; valves from 0.30, every other class from 0.55).
Flat parts (collar plates: 12 mm proud of the web, primed like it) give no figure: parts
in place showed 0.00-0.89 of their outline, which shows only by contrast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np

from arinspect.cad.section import Part, Section
from arinspect.camera import CameraModel
from arinspect.geometry import invert_T, rotate_vectors
from arinspect.pose.cad_edges import (
    CREASE_DEG,
    CadEdges,
    edges_apart_from,
    mesh_edges,
    structure_edges,
    visible_edge_samples,
)
from arinspect.pose.refine_edges import search_along_normals
from arinspect.render.scene import SectionScene
from arinspect.typed import FloatArray


@dataclass(frozen=True)
class EdgeSupportConfig:
    """How a part's edge support is measured.

    Attributes:
        spacing_px: Distance between edge samples along a projected edge, pixels.
        max_samples: Samples per part at most, on average (evenly thinned).
        min_samples: Fewer visible samples than this give no support figure.
        search_px: How far from the drawn edge an image edge may lie, pixels (the pose's
            few-millimetre error at a few metres).
        min_gradient: Gradient (grey levels per pixel) that counts as an edge.
        apart_from_structure_m: A part's edges closer than this to the structure's are left
            out, metres.
        min_relief_m: Surface-mounted parts standing less out of their surface than this
            (metres; collar plates, 12 mm) give no support figure: their outline shows only
            where their colour differs from the steel's, so its absence says nothing.
    """

    spacing_px: float = 3.0
    max_samples: int = 300
    min_samples: int = 10
    search_px: int = 2
    min_gradient: float = 8.0
    apart_from_structure_m: float = 0.01
    min_relief_m: float = 0.02


class PartEdgeSupport:
    """Measures, frame by frame, how much of each part's own edges the image shows."""

    def __init__(
        self,
        section: Section,
        scene: SectionScene,
        camera: CameraModel,
        config: EdgeSupportConfig = EdgeSupportConfig(),
        mounts: Mapping[str, str] | None = None,
    ) -> None:
        """Prepare the structure's edges; each part's own edges are built when first asked.

        Args:
            section: The section (its CAD, parts at their drawn places).
            scene: Ray-casting scene of the section with its parts (what hides an edge).
            camera: Intrinsics of the frames.
            config: Settings.
            mounts: Mount of each class (``surface``: the part frame's z = 0 plane lies on
                the steel, see `docs/formats.md`); with it, flat surface parts give no
                support figure (`EdgeSupportConfig.min_relief_m`).
        """
        self.section = section
        self.scene = scene
        self.camera = camera
        self.config = config
        self._structure = structure_edges(section)
        self._structure_scene = SectionScene(replace(section, parts=()))
        self._own: dict[str, CadEdges] = {}
        self.flat_parts = frozenset(
            part.id
            for part in section.parts
            if (mounts or {}).get(part.class_name) == "surface"
            and section.mesh(part).bounds[1][2] < config.min_relief_m
        )

    def own_edges(self, part: Part) -> CadEdges:
        """The part's edges at its drawn place, without those along the structure."""
        if part.id not in self._own:
            edges = mesh_edges(self.section.mesh(part), part.T_section_part)
            self._own[part.id] = edges_apart_from(
                edges, self._structure, self.config.apart_from_structure_m
            )
        return self._own[part.id]

    def supports(
        self,
        gradient: tuple[FloatArray, FloatArray],
        T_cam_section: FloatArray,
        parts: Sequence[Part],
        offsets_m: Sequence[FloatArray] | None = None,
    ) -> list[float | None]:
        """Share (0-1) of each part's visible own-edge samples with an image edge on them.

        All parts are sampled, cast and searched together (one frame's good looks cost a
        few milliseconds).

        Args:
            gradient: (gx, gy) of the frame, grey levels per pixel
                (`pose.refine_edges.gradient_pyramid` level 0).
            T_cam_section: The frame's pose, metres.
            parts: The parts.
            offsets_m: Per part, (3,) where to look instead: the drawn place moved by this,
                section frame, metres (a measured misplacement).

        Returns:
            Per part the share, or None when fewer than `EdgeSupportConfig.min_samples` of
            its samples show and tell (are not where the structure makes an edge anyway),
            or for a flat part (`flat_parts`).
        """
        if not parts:
            return []
        config = self.config
        own = [self.own_edges(part) for part in parts]
        if offsets_m is not None:
            own = [
                edges.shifted(shift)
                for edges, shift in zip(own, np.asarray(offsets_m, np.float64), strict=True)
            ]
        owner = np.repeat(np.arange(len(parts)), [len(edges.starts) for edges in own])
        together = CadEdges(
            *(np.concatenate([getattr(e, f.name) for e in own]) for f in fields(CadEdges))
        )
        samples = visible_edge_samples(
            together,
            self.scene,
            self.camera,
            T_cam_section,
            config.spacing_px,
            config.max_samples * max(len(parts), 1),
            margin_px=float(config.search_px + 1),
        )
        uv, _ = self.camera.project(T_cam_section, samples.pts_section)
        found = np.isfinite(
            search_along_normals(
                gradient, uv, samples.normals_px, config.search_px, config.min_gradient
            )
        )
        of_part = owner[samples.segment]
        telling = ~self._explained_by_structure(T_cam_section, uv, samples.normals_px)
        found, of_part = found[telling], of_part[telling]
        counts = np.bincount(of_part, minlength=len(parts))
        shown = np.bincount(of_part, weights=found, minlength=len(parts))
        return [
            float(shown[k] / counts[k])
            if counts[k] >= config.min_samples and part.id not in self.flat_parts
            else None
            for k, part in enumerate(parts)
        ]

    def _explained_by_structure(
        self, T_cam_section: FloatArray, uv: FloatArray, normals_px: FloatArray
    ) -> np.ndarray:
        """(N,) True where the structure alone would make an image edge at the samples.

        Rays through both sides of each sample, just beyond the search distance, are cast
        into the section without its parts: a different element (or a marker, or nothing)
        on the two sides, or faces bent by more than `CREASE_DEG`, is an edge the image
        shows whether or not the part is there (a clamp's rim along its pipe's contour).

        Args:
            T_cam_section: The frame's pose, metres.
            uv: (N, 2) samples' pixels.
            normals_px: (N, 2) unit image directions across the part's edge at them.
        """
        step = self.config.search_px + 1.5
        sides = np.concatenate([uv + step * normals_px, uv - step * normals_px])
        xy = self.camera.normalized_from_pixels(sides)
        rays_cam = np.concatenate([xy, np.ones((len(xy), 1))], axis=1)
        T_section_cam = invert_T(T_cam_section)
        directions = rotate_vectors(T_section_cam, rays_cam)
        origins = np.broadcast_to(T_section_cam[:3, 3], directions.shape).copy()
        hits = self._structure_scene.cast(origins, directions)
        n = len(uv)
        label_a, label_b = hits.label[:n], hits.label[n:]
        cos = np.einsum("ij,ij->i", hits.normal[:n], hits.normal[n:])
        crease = (cos < np.cos(np.radians(CREASE_DEG))) & (label_a > 0)
        return (label_a != label_b) | crease

    def support(
        self,
        gradient: tuple[FloatArray, FloatArray],
        T_cam_section: FloatArray,
        part: Part,
        offset_m: FloatArray | None = None,
    ) -> float | None:
        """`supports` of one part (optionally moved by `offset_m`)."""
        offsets = None if offset_m is None else [offset_m]
        return self.supports(gradient, T_cam_section, [part], offsets)[0]
