"""Loading triangle meshes from disk (any format trimesh reads), in metres."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import trimesh

from arinspect.errors import DataFormatError


def load_mesh(path: str | Path) -> trimesh.Trimesh:
    """Load a mesh file as one triangle mesh in its own frame, metres.

    Scenes (glTF, OBJ with groups ...) are flattened with their node transforms. The
    result is cached per path and modification time; callers must not modify it.

    Raises:
        DataFormatError: the file is missing, unreadable or holds no triangles.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise DataFormatError(path, "mesh file not found")
    return _load_cached(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=256)
def _load_cached(path: Path, _mtime_ns: int) -> trimesh.Trimesh:
    try:
        mesh = trimesh.load(path, force="mesh", process=False)
    except Exception as exc:  # trimesh raises many unrelated types on corrupt files
        raise DataFormatError(
            path, f"cannot be read as a mesh ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise DataFormatError(path, "holds no triangles")
    if not np.isfinite(mesh.vertices).all():
        raise DataFormatError(path, "has non-finite vertex coordinates")
    return mesh


def corner_normals(mesh: trimesh.Trimesh, crease_angle_deg: float = 30.0) -> np.ndarray:
    """(F, 3, 3) unit normal at each corner of each face, in the mesh frame, for smooth shading.

    A corner's normal averages (area-weighted) the normals of the faces around its vertex
    that bend less than `crease_angle_deg` from its own face, so curved surfaces look round
    while plate edges stay sharp. Vertices at the same position are treated as one, and
    the face order of `mesh` is kept. The result is kept in the mesh's own cache (dropped by
    trimesh when the mesh changes), so shared catalog meshes are smoothed once.
    """
    cache_key = f"arinspect_corner_normals_{crease_angle_deg}"
    cached = mesh._cache[cache_key]  # trimesh clears it whenever the mesh changes
    if cached is not None:
        return cached
    faces = np.asarray(mesh.faces)
    face_normals = np.asarray(mesh.face_normals)
    weighted = face_normals * np.asarray(mesh.area_faces)[:, None]
    _, vertex_key = np.unique(np.round(np.asarray(mesh.vertices), 6), axis=0, return_inverse=True)
    corner_vertex = vertex_key.reshape(-1)[faces.reshape(-1)]
    corner_face = np.repeat(np.arange(len(faces)), 3)
    order = np.argsort(corner_vertex, kind="stable")
    sorted_vertex = corner_vertex[order]
    starts = np.flatnonzero(np.r_[True, sorted_vertex[1:] != sorted_vertex[:-1]])
    sizes = np.diff(np.r_[starts, len(sorted_vertex)])
    group_size = np.repeat(sizes, sizes)
    # All ordered pairs (i, j) of corners that share a vertex.
    i = np.repeat(np.arange(len(order)), group_size)
    first_of_i = np.repeat(np.repeat(starts, sizes), group_size)
    j = first_of_i + np.arange(len(i)) - np.repeat(np.cumsum(group_size) - group_size, group_size)
    face_i, face_j = corner_face[order[i]], corner_face[order[j]]
    smooth = np.sum(face_normals[face_i] * face_normals[face_j], axis=1) >= np.cos(
        np.deg2rad(crease_angle_deg)
    )
    accumulated = np.zeros((len(corner_face), 3))
    np.add.at(accumulated, order[i[smooth]], weighted[face_j[smooth]])
    norms = np.linalg.norm(accumulated, axis=1, keepdims=True)
    result = np.where(
        norms > 1e-12, accumulated / np.maximum(norms, 1e-12), np.repeat(face_normals, 3, axis=0)
    )
    result = result.reshape(-1, 3, 3)
    result.flags.writeable = False
    mesh._cache[cache_key] = result
    return result
