import numpy as np
import pytest

from arinspect.cad.section import load_section
from arinspect.errors import ConfigError, ShapeError
from arinspect.markers import marker_corners_marker
from arinspect.pose.marker_detection import MarkerDetector
from arinspect.recording.bop import Recording


def test_detected_corners_match_the_true_projection(fixtures_dir):
    recording = Recording(fixtures_dir / "walk_depth")
    section = load_section(recording.section_folder)
    markers = {m.key: m for m in section.markers}
    detector = MarkerDetector({m.family for m in section.markers})
    errors = []
    for im_id in recording.frame_ids:
        T_cam_section = recording.T_cam_section(im_id)
        for detection in detector.detect(recording.bgr(im_id)):
            marker = markers[detection.key]  # every detection is a marker of the section
            expected, _ = recording.camera.project(
                T_cam_section @ marker.T_section_marker, marker_corners_marker(marker.size_m)
            )
            errors.extend(np.linalg.norm(detection.corners_px - expected, axis=1))
    assert len(errors) >= 4 * 8
    assert np.median(errors) < 0.7 and max(errors) < 2.0, errors


def test_grey_input_bad_shapes_and_unknown_families():
    detector = MarkerDetector(["DICT_5X5_250", "apriltag_36h11"])
    assert detector.detect(np.full((48, 64), 128, np.uint8)) == []
    with pytest.raises(ShapeError):
        detector.detect(np.zeros((4, 4, 4, 4), np.uint8))
    with pytest.raises(ConfigError):
        MarkerDetector(["DICT_9X9_1"])
