import numpy as np
import pytest

from arinspect.cad.section import load_section
from arinspect.pose.cad_edges import _clip_to_near_plane, structure_edges, visible_edge_samples
from arinspect.pose.model_view import StructureModel
from arinspect.recording.bop import Recording


@pytest.fixture(scope="module")
def colour_walk(fixtures_dir):
    recording = Recording(fixtures_dir / "defects")
    return recording, StructureModel(load_section(recording.section_folder))


def test_edges_hold_the_structure_creases_and_every_marker_outline(colour_walk):
    _, model = colour_walk
    edges = model.edges
    section = model.section
    assert len(edges.starts) == len(edges.ends) == len(edges.crease)
    lengths = np.linalg.norm(edges.ends - edges.starts, axis=1)
    assert lengths.min() > 0
    # Each marker adds its black square and its paper edge: 8 segments, as long as its sides.
    marker_lengths = lengths[-8 * len(section.markers) :].reshape(-1, 8)
    sizes = np.array([m.size_m for m in section.markers])
    np.testing.assert_allclose(marker_lengths[:, :4], sizes[:, None] * np.ones(4), rtol=1e-9)
    np.testing.assert_allclose(marker_lengths[:, 4:], 1.5 * sizes[:, None] * np.ones(4), rtol=1e-9)
    # A structure of plates: most edges are creases; only rounded cut-outs and pipes are smooth.
    assert 0.5 < edges.crease.mean() < 1.0
    assert len(structure_edges(section).starts) == len(edges.starts)


@pytest.mark.parametrize("im_id", [0, 3])
def test_visible_samples_lie_on_the_edges_of_the_cast_view(colour_walk, im_id):
    recording, model = colour_walk
    T = recording.T_cam_section(im_id)
    camera = recording.camera
    samples = visible_edge_samples(model.edges, model.scene, camera, T, 5.0, 5000, margin_px=2.0)
    assert len(samples.pts_section) > 200
    np.testing.assert_allclose(np.linalg.norm(samples.normals_px, axis=1), 1.0, atol=1e-9)
    view = model.view(camera, T)
    uv, _ = camera.project(T, samples.pts_section)
    on_an_edge = []
    for u, v in np.rint(uv).astype(int):
        label = view.label[v - 2 : v + 3, u - 2 : u + 3]
        depth = view.depth_m[v - 2 : v + 3, u - 2 : u + 3]
        normal_z = view.normals_section[v - 2 : v + 3, u - 2 : u + 3].reshape(-1, 3)
        on_an_edge.append(
            len(np.unique(label)) > 1
            or np.ptp(depth) > 0.03 * depth.max()
            or np.ptp(normal_z, axis=0).max() > 0.3
        )
    assert np.mean(on_an_edge) > 0.95


def test_segments_are_cut_at_the_near_plane():
    a = np.array([[0.0, 0.0, -1.0], [0.0, 0.0, 1.0], [0.0, 0.0, -1.0]])
    b = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 2.0], [0.0, 1.0, 0.1]])
    a_cut, b_cut, kept = _clip_to_near_plane(a, b, 0.2)
    assert kept.tolist() == [True, True, False]  # the third lies wholly nearer
    np.testing.assert_allclose(a_cut[0], [0.0, 0.6, 0.2])
    np.testing.assert_allclose(b_cut[0], b[0])
    np.testing.assert_allclose(a_cut[1], a[1])
    np.testing.assert_allclose(b_cut[1], b[1])
