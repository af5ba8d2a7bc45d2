"""How much of a part a render shows: the reference for expected-view and viewpoint tests."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from arinspect.cad.section import Section
from arinspect.camera import CameraModel
from arinspect.render.renderer import RenderOptions, render
from arinspect.render.scene import SectionScene


def rendered_share(
    section: Section, camera: CameraModel, T_cam_section: np.ndarray, part_id: str
) -> tuple[float, float]:
    """(share of the part's silhouette the render shows, height of what shows in pixels).

    The silhouette is the render of the part alone; what shows, its pixels in the render
    of the whole section.
    """
    options = RenderOptions(supersample=1)
    scene = SectionScene(section)
    labels = render(scene, camera, T_cam_section, options).label_map
    alone = replace(
        section, structure=(), markers=(), parts=[p for p in section.parts if p.id == part_id]
    )
    silhouette = render(SectionScene(alone), camera, T_cam_section, options).label_map > 0
    rows, _ = np.nonzero(labels == scene.label_by_id()[part_id])
    height = float(rows.max() - rows.min() + 1) if len(rows) else 0.0
    return len(rows) / max(np.count_nonzero(silhouette), 1), height
