"""The structure's edges as 3-D segments, and the points of them a camera sees.

Model-based trackers align what the CAD's edges should look like with the image. The
segments come from the structure meshes once per section: creases (faces meeting at more
than `CREASE_DEG`), smooth edges (which show only where they are an occluding contour,
e.g. along a pipe) and each marker's printed outlines (paper edge and black square). At a
pose, each segment that can show is sampled every few pixels, and a sample counts when a
ray from the camera reaches it unobstructed by the structure. Parts are left out: they may
be missing or moved, which is what inspection looks for.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import trimesh

from arinspect.cad.section import Section
from arinspect.camera import CameraModel
from arinspect.geometry import invert_T, transform_points
from arinspect.markers import marker_corners_marker
from arinspect.render.scene import MARKER_MARGIN, SectionScene
from arinspect.typed import FloatArray

CREASE_DEG = 25.0
"""Faces meeting at more than this angle make an edge that always shows when in view."""


@dataclass(frozen=True)
class CadEdges:
    """Edge segments of a section's structure, section frame, metres.

    Attributes:
        starts: (N, 3) first end of each segment.
        ends: (N, 3) second end.
        normals_a: (N, 3) outward normal of one face at the edge.
        normals_b: (N, 3) outward normal of the other face (the same for flat outlines).
        crease: (N,) True where the edge shows whenever a face at it faces the camera;
            False for smooth edges, which show only as an occluding contour.
    """

    starts: FloatArray
    ends: FloatArray
    normals_a: FloatArray
    normals_b: FloatArray
    crease: np.ndarray

    def shifted(self, offset_m: FloatArray) -> CadEdges:
        """The same edges moved by (3,) `offset_m`, section frame, metres."""
        return replace(self, starts=self.starts + offset_m, ends=self.ends + offset_m)


@dataclass(frozen=True)
class EdgeSamples:
    """Visible points on the structure's edges from one pose.

    Attributes:
        pts_section: (M, 3) points on the edges, section frame, metres.
        normals_px: (M, 2) unit image direction across the edge at each point.
        segment: (M,) index of each point's segment in the edges sampled.
    """

    pts_section: FloatArray
    normals_px: FloatArray
    segment: np.ndarray


def mesh_edges(mesh: trimesh.Trimesh, T_section_mesh: FloatArray) -> CadEdges:
    """Creases and smooth edges of one mesh placed at `T_section_mesh`."""
    angles = mesh.face_adjacency_angles
    bent = angles > 1e-3
    vertices = transform_points(T_section_mesh, mesh.vertices)
    face_normals = mesh.face_normals @ T_section_mesh[:3, :3].T
    pairs = mesh.face_adjacency[bent]
    edge_vertices = mesh.face_adjacency_edges[bent]
    return CadEdges(
        vertices[edge_vertices[:, 0]],
        vertices[edge_vertices[:, 1]],
        face_normals[pairs[:, 0]],
        face_normals[pairs[:, 1]],
        angles[bent] > np.deg2rad(CREASE_DEG),
    )


def structure_edges(section: Section) -> CadEdges:
    """Creases and smooth edges of every structure element, and the markers' outlines."""
    parts = [mesh_edges(section.mesh(e), e.T_section_part) for e in section.structure]
    for marker in section.markers:
        normal = np.tile(marker.T_section_marker[:3, 2], (4, 1))
        for size in (marker.size_m, marker.size_m * (1 + 2 * MARKER_MARGIN)):
            corners = transform_points(marker.T_section_marker, marker_corners_marker(size))
            outline = (corners, np.roll(corners, -1, axis=0), normal, normal, np.ones(4, bool))
            parts.append(CadEdges(*outline))
    return CadEdges(
        *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(CadEdges))
    )


def edges_apart_from(edges: CadEdges, others: CadEdges, distance_m: float) -> CadEdges:
    """The segments of `edges` whose ends and middle lie farther than `distance_m` from `others`.

    E.g. a part's own edges without those along the steel it sits on: a collar plate's rim
    along its slot shows whether or not the plate is there.
    """
    low = np.minimum(edges.starts, edges.ends).min(axis=0, initial=np.inf) - distance_m
    high = np.maximum(edges.starts, edges.ends).max(axis=0, initial=-np.inf) + distance_m
    near = np.all(
        (np.maximum(others.starts, others.ends) >= low)
        & (np.minimum(others.starts, others.ends) <= high),
        axis=1,
    )  # only segments whose boxes meet the edges' box can come within the distance
    others = CadEdges(*(getattr(others, f.name)[near] for f in fields(CadEdges)))
    far = np.ones(len(edges.starts), bool)
    for points in (edges.starts, edges.ends, 0.5 * (edges.starts + edges.ends)):
        far &= _distance_to_segments(points, others.starts, others.ends) > distance_m
    return CadEdges(*(getattr(edges, f.name)[far] for f in fields(CadEdges)))


def _distance_to_segments(points: FloatArray, starts: FloatArray, ends: FloatArray) -> FloatArray:
    """(N,) distance of each point to the nearest of the segments, metres."""
    if len(starts) == 0:
        return np.full(len(points), np.inf)
    along = ends - starts
    length2 = np.maximum(np.einsum("ij,ij->i", along, along), 1e-18)
    offsets = points[:, None, :] - starts[None]
    t = np.clip(np.einsum("nmk,mk->nm", offsets, along) / length2, 0.0, 1.0)
    nearest = starts[None] + t[..., None] * along[None]
    return np.linalg.norm(points[:, None, :] - nearest, axis=2).min(axis=1)


def visible_edge_samples(
    edges: CadEdges,
    scene: SectionScene,
    camera: CameraModel,
    T_cam_section: FloatArray,
    spacing_px: float,
    max_points: int,
    margin_px: float = 0.0,
    near_m: float = 0.2,
) -> EdgeSamples:
    """Points every `spacing_px` along the edges that show at `T_cam_section`.

    Args:
        edges: The section's edges.
        scene: Ray-casting scene of the structure (occluders).
        camera: Intrinsics.
        T_cam_section: The pose, metres.
        spacing_px: Distance between samples along a projected edge, pixels.
        max_points: At most this many samples, evenly thinned.
        margin_px: Samples closer than this to the image border are left out.
        near_m: Parts of segments nearer than this to the camera (z, metres) are cut off.
    """
    T_section_cam = invert_T(T_cam_section)
    centre = T_section_cam[:3, 3]
    shows = np.nonzero(_edges_that_show(edges, centre))[0]
    a, b, in_front = _clip_to_near_plane(
        transform_points(T_cam_section, edges.starts[shows]),
        transform_points(T_cam_section, edges.ends[shows]),
        near_m,
    )
    shows = shows[in_front]
    uv_a = _pinhole(camera, a)
    uv_b = _pinhole(camera, b)
    length_px = np.linalg.norm(uv_b - uv_a, axis=1)
    counts = np.ceil(np.nan_to_num(length_px / spacing_px, nan=0.0)).astype(int)
    counts = np.minimum(counts, 2000)  # a segment grazing the near plane projects huge
    seg = np.repeat(np.arange(len(a)), counts)
    if len(seg) == 0:
        return EdgeSamples(np.zeros((0, 3)), np.zeros((0, 2)), np.zeros(0, int))
    offsets = np.arange(len(seg)) - np.repeat(np.cumsum(counts) - counts, counts)
    s = (offsets + 0.5) / counts[seg]
    pts_cam = a[seg] + s[:, None] * (b[seg] - a[seg])
    direction = b[seg] - a[seg]
    pts_section = transform_points(T_section_cam, pts_cam)
    uv, _ = camera.project(T_cam_section, pts_section)
    step = 0.01 * direction / np.linalg.norm(direction, axis=1, keepdims=True)
    uv_ahead, _ = camera.project(np.eye(4), pts_cam + step)
    along = uv_ahead - uv
    along /= np.maximum(np.linalg.norm(along, axis=1, keepdims=True), 1e-12)
    normals_px = np.stack([-along[:, 1], along[:, 0]], axis=1)
    inside = (
        np.isfinite(uv).all(axis=1)
        & (uv[:, 0] >= margin_px)
        & (uv[:, 0] <= camera.width - 1 - margin_px)
        & (uv[:, 1] >= margin_px)
        & (uv[:, 1] <= camera.height - 1 - margin_px)
    )
    segment = shows[seg]
    pts_section, normals_px, segment = pts_section[inside], normals_px[inside], segment[inside]
    rays = pts_section - centre
    distance = np.linalg.norm(rays, axis=1)
    hit_m, _ = scene.cast_depth_labels(
        np.broadcast_to(centre, rays.shape).copy(), rays / distance[:, None]
    )
    unobstructed = hit_m >= distance - np.maximum(0.004, 0.002 * distance)
    keep = np.nonzero(unobstructed)[0]
    if len(keep) > max_points:
        keep = keep[np.linspace(0, len(keep) - 1, max_points).astype(int)]
    return EdgeSamples(pts_section[keep], normals_px[keep], segment[keep])


def _edges_that_show(edges: CadEdges, centre_section: FloatArray) -> np.ndarray:
    """Creases with a face towards the camera; smooth edges where exactly one faces it."""
    view = 0.5 * (edges.starts + edges.ends) - centre_section
    faces_a = np.einsum("ij,ij->i", edges.normals_a, view) < 0
    faces_b = np.einsum("ij,ij->i", edges.normals_b, view) < 0
    return np.where(edges.crease, faces_a | faces_b, faces_a != faces_b)


def _clip_to_near_plane(
    a: FloatArray, b: FloatArray, near_m: float
) -> tuple[FloatArray, FloatArray, np.ndarray]:
    """Segments (camera frame) cut to z >= near_m, and the mask of those kept.

    Segments wholly nearer than `near_m` are dropped.
    """
    keep = (a[:, 2] >= near_m) | (b[:, 2] >= near_m)
    a, b = a[keep].copy(), b[keep].copy()
    dz = b[:, 2] - a[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (near_m - a[:, 2]) / dz
    a_behind, b_behind = a[:, 2] < near_m, b[:, 2] < near_m
    a[a_behind] += t[a_behind, None] * (b - a)[a_behind]
    b[b_behind] = a[b_behind] + t[b_behind, None] * (b - a)[b_behind]
    return a, b, keep


def _pinhole(camera: CameraModel, pts_cam: FloatArray) -> FloatArray:
    """Undistorted pixel positions of camera-frame points (enough to space the samples)."""
    return pts_cam[:, :2] / pts_cam[:, 2:] * np.diag(camera.K)[:2] + camera.K[:2, 2]
