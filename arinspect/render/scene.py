"""A section turned into a ray-casting scene: meshes in the section frame, labels, marker quads.

Every structure element, part and marker gets a label index (0 is "nothing"), in the order
of `Section.elements()` followed by the markers, so that a rendered label map says which
element every pixel shows. Parts can be removed or moved (to render defects) when the
scene is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import open3d as o3d
import trimesh

from arinspect.cad.mesh import corner_normals
from arinspect.cad.section import Marker, Section
from arinspect.errors import ConfigError
from arinspect.geometry import invert_T, rotate_vectors, transform_points
from arinspect.markers import marker_corners_marker
from arinspect.typed import FloatArray

MARKER_MARGIN = 0.25
"""White margin around a marker's black square on its printed sheet, as a fraction of its side."""
MISS = np.uint32(0xFFFFFFFF)
"""Geometry id Open3D returns for a ray that hits nothing."""


@dataclass(frozen=True)
class Label:
    """What a label index stands for.

    Attributes:
        index: Value in the label map (0 = nothing).
        kind: ``background``, ``structure``, ``part``, ``clutter`` or ``marker``.
        id: Element id; for markers ``FAMILY/ID``.
        class_name: Catalog class of a part, structure kind of an element, family of a marker.
    """

    index: int
    kind: str
    id: str
    class_name: str


@dataclass(frozen=True)
class Hits:
    """Result of casting N rays.

    Attributes:
        t: (N,) distance along each ray (rays with z = 1 in the camera: z-depth), inf on a miss.
        label: (N,) label index, 0 on a miss.
        normal: (N, 3) unit surface normal in the section frame, facing the ray origin.
        point: (N, 3) hit point in the section frame, metres (undefined on a miss).
    """

    t: FloatArray
    label: np.ndarray
    normal: FloatArray
    point: FloatArray


class SectionScene:
    """Ray-casting scene of one section (optionally with removed or moved parts)."""

    def __init__(
        self,
        section: Section,
        removed: frozenset[str] | set[str] = frozenset(),
        T_section_part_overrides: Mapping[str, FloatArray] | None = None,
        clutter: Sequence[trimesh.Trimesh] = (),
    ) -> None:
        """Build the scene.

        Args:
            section: The section.
            removed: Ids of parts that are left out.
            T_section_part_overrides: Actual poses of moved parts, by id (section frame, m).
            clutter: Extra meshes in the section frame that belong to no element (tools,
                hoses, people's legs in synthetic training data); labelled ``clutter``.
        """
        overrides = dict(T_section_part_overrides or {})
        part_ids = {p.id for p in section.parts}
        unknown = (set(removed) | set(overrides)) - part_ids
        if unknown:
            raise ConfigError(
                f"section {section.name!r} has no part(s) {', '.join(sorted(unknown))}"
            )
        self.section = section
        self.labels: list[Label] = [Label(0, "background", "", "")]
        self.markers: dict[int, Marker] = {}
        self._scene = o3d.t.geometry.RaycastingScene()
        geometry_labels: list[int] = []
        smooth_normals: list[FloatArray] = []
        for element in section.elements():
            if element.id in removed:
                continue
            is_part = element.id in part_ids
            T = overrides.get(element.id, element.T_section_part)
            mesh = section.mesh(element)
            label = len(self.labels)
            kind, cls = ("part", element.class_name) if is_part else ("structure", element.kind)
            self.labels.append(Label(label, kind, element.id, cls))
            self._add(transform_points(T, mesh.vertices), np.asarray(mesh.faces))
            geometry_labels.append(label)
            smooth_normals.append(_face_vertex_normals(mesh, T))
        for number, mesh in enumerate(clutter):
            label = len(self.labels)
            self.labels.append(Label(label, "clutter", f"clutter-{number}", "clutter"))
            self._add(np.asarray(mesh.vertices), np.asarray(mesh.faces))
            geometry_labels.append(label)
            smooth_normals.append(_face_vertex_normals(mesh, np.eye(4)))
        for marker in section.markers:
            label = len(self.labels)
            self.labels.append(
                Label(label, "marker", f"{marker.family}/{marker.id}", marker.family)
            )
            self.markers[label] = marker
            quad = marker_corners_marker(marker.size_m * (1 + 2 * MARKER_MARGIN))
            faces = np.array([[0, 3, 2], [0, 2, 1]])  # counter-clockwise seen from +z (the face)
            self._add(transform_points(marker.T_section_marker, quad), faces)
            geometry_labels.append(label)
            n = np.tile(marker.T_section_marker[:3, 2], (2, 3, 1))
            smooth_normals.append(n)
        self.is_marker_label = np.zeros(len(self.labels), bool)
        self.is_marker_label[list(self.markers)] = True
        # One extra geometry (label 0) with one extra face (zero normals) stands for misses,
        # so that per-ray lookups need no masking.
        self._geometry_labels = np.asarray(geometry_labels + [0], dtype=np.int32)
        self._face_offsets = np.cumsum([0] + [len(n) for n in smooth_normals])
        smooth_normals.append(np.zeros((1, 3, 3)))
        self._vertex_normals = np.concatenate(smooth_normals, axis=0).astype(np.float32)

    def _add(self, vertices: FloatArray, faces: np.ndarray) -> None:
        self._scene.add_triangles(
            o3d.core.Tensor(np.ascontiguousarray(vertices, dtype=np.float32)),
            o3d.core.Tensor(np.ascontiguousarray(faces, dtype=np.uint32)),
        )

    def label_by_id(self) -> dict[str, int]:
        """Label index of every element id (and ``FAMILY/ID`` of every marker)."""
        return {label.id: label.index for label in self.labels[1:]}

    def cast(self, origins: FloatArray, directions: FloatArray) -> Hits:
        """Cast (N, 3) rays given in the section frame; see `Hits`."""
        rays = np.concatenate([origins, directions], axis=1).astype(np.float32)
        result = self._scene.cast_rays(o3d.core.Tensor(rays))
        t = result["t_hit"].numpy().astype(np.float64)
        hit = result["geometry_ids"].numpy() != MISS
        geometry = np.where(hit, result["geometry_ids"].numpy(), len(self._geometry_labels) - 1)
        face = self._face_offsets[geometry] + np.where(hit, result["primitive_ids"].numpy(), 0)
        uv = result["primitive_uvs"].numpy()
        corners = self._vertex_normals[face]
        n = (
            corners[:, 0] * (1.0 - uv[:, :1] - uv[:, 1:])
            + corners[:, 1] * uv[:, :1]
            + corners[:, 2] * uv[:, 1:]
        )
        n *= (1.0 / np.maximum(np.sqrt(np.einsum("ij,ij->i", n, n)), 1e-12))[:, None]
        facing_away = np.einsum("ij,ij->i", n, directions.astype(np.float32)) > 0
        n *= np.where(facing_away, -1.0, 1.0).astype(np.float32)[:, None]
        point = origins + directions * np.where(hit, t, 0.0)[:, None]
        return Hits(
            np.where(hit, t, np.inf), self._geometry_labels[geometry], n.astype(np.float64), point
        )

    def cast_depth_labels(
        self, origins: FloatArray, directions: FloatArray
    ) -> tuple[FloatArray, np.ndarray]:
        """Distance (inf on a miss) and label of (N, 3) rays: `cast` without normals/points."""
        rays = np.concatenate([origins, directions], axis=1).astype(np.float32)
        result = self._scene.cast_rays(o3d.core.Tensor(rays))
        t = result["t_hit"].numpy().astype(np.float64)
        ids = result["geometry_ids"].numpy()
        hit = ids != MISS
        label = self._geometry_labels[np.where(hit, ids, len(self._geometry_labels) - 1)]
        return np.where(hit, t, np.inf), label

    def crossing_counts(self, origins: FloatArray, directions: FloatArray) -> np.ndarray:
        """(n_labels,) how many of (N, 3) rays cross each label anywhere along them.

        What is in front is ignored: a label's count is its silhouette, as if it stood
        alone (the rays that would see it with nothing else in the way).
        """
        rays = np.concatenate([origins, directions], axis=1).astype(np.float32)
        result = self._scene.list_intersections(o3d.core.Tensor(rays))
        n_labels = len(self.labels)
        labels = self._geometry_labels[result["geometry_ids"].numpy()]
        pairs = np.unique(result["ray_ids"].numpy().astype(np.int64) * n_labels + labels)
        return np.bincount(pairs % n_labels, minlength=n_labels)

    def occluded(
        self, points: FloatArray, towards: FloatArray, max_distance: float = np.inf
    ) -> np.ndarray:
        """(N,) True where a ray from `points` along unit `towards` hits something (shadows).

        Rays start 2 mm off the surface to avoid hitting it again.
        """
        origins = points + towards * 0.002
        rays = np.concatenate([origins, np.broadcast_to(towards, points.shape)], axis=1)
        t = self._scene.cast_rays(o3d.core.Tensor(rays.astype(np.float32)))["t_hit"].numpy()
        return t < max_distance

    def marker_texture_coords(
        self, label: np.ndarray, point: FloatArray
    ) -> tuple[np.ndarray, FloatArray]:
        """For hits on markers: which marker and where on its sheet.

        Returns:
            marker_labels: (M,) label of each marker hit among the inputs.
            xy: (M, 2) hit position in the marker frame, metres.
        """
        is_marker = self.is_marker_label[label]
        xy = np.zeros((int(is_marker.sum()), 2))
        marker_labels = label[is_marker]
        for lab in np.unique(marker_labels):
            sel = marker_labels == lab
            T_marker_section = invert_T(self.markers[int(lab)].T_section_marker)
            xy[sel] = transform_points(T_marker_section, point[is_marker][sel])[:, :2]
        return marker_labels, xy


def _face_vertex_normals(mesh: trimesh.Trimesh, T_section_part: FloatArray) -> FloatArray:
    """(F, 3, 3) normals at each face's corners, section frame, smoothed below 30 degrees."""
    normals = corner_normals(mesh).reshape(-1, 3)
    return rotate_vectors(T_section_part, normals).reshape(-1, 3, 3)
