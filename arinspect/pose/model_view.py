"""What the section's CAD looks like from a pose: ray-cast depth, normals and labels.

Pose refinement aligns the image (or depth) with this view. Only the hull structure is
used (parts may be missing or misplaced; that is what inspection looks for), cast at a
reduced resolution: a quarter of 640x480 costs a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arinspect.cad.section import Section
from arinspect.camera import CameraModel
from arinspect.geometry import invert_T, rotate_vectors
from arinspect.pose.cad_edges import CadEdges, structure_edges
from arinspect.render.scene import SectionScene
from arinspect.typed import FloatArray


@dataclass(frozen=True)
class ModelView:
    """The structure seen from one pose, on the pixel grid of `camera`.

    Attributes:
        camera: The (scaled) camera the view was cast with.
        depth_m: (h, w) z-depth, metres, 0 where nothing is hit.
        label: (h, w) label index (0 = nothing).
        points_section: (h, w, 3) hit points, section frame, metres.
        normals_section: (h, w, 3) unit normals facing the camera, section frame.
    """

    camera: CameraModel
    depth_m: FloatArray
    label: np.ndarray
    points_section: FloatArray
    normals_section: FloatArray


class StructureModel:
    """Ray-casting scene and edges of a section's structure only, for pose refinement."""

    def __init__(self, section: Section) -> None:
        """Build the scene (parts left out, markers kept: they are flat on the steel)."""
        self.section = section
        self.scene = SectionScene(section, removed={p.id for p in section.parts})
        self.edges: CadEdges = structure_edges(section)

    def view(self, camera: CameraModel, T_cam_section: FloatArray) -> ModelView:
        """Cast every pixel of `camera` at `T_cam_section`."""
        T_section_cam = invert_T(T_cam_section)
        rays = rotate_vectors(T_section_cam, camera.pixel_rays_cam.reshape(-1, 3))
        origins = np.broadcast_to(T_section_cam[:3, 3], rays.shape).copy()
        hits = self.scene.cast(origins, rays)
        h, w = camera.height, camera.width
        depth = np.where(np.isfinite(hits.t), hits.t, 0.0).reshape(h, w)
        return ModelView(
            camera,
            depth,
            hits.label.reshape(h, w),
            hits.point.reshape(h, w, 3),
            hits.normal.reshape(h, w, 3),
        )
