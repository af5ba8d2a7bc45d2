import json
import shutil

import cv2
import numpy as np
import pytest

from arinspect.camera import default_camera
from arinspect.errors import DataFormatError
from arinspect.geometry import make_T, rotation_from_rotvec
from arinspect.recording.bop import Recording, RecordingWriter


def write_small_recording(folder, T_cam_section):
    camera = default_camera().scaled(0.25)
    writer = RecordingWriter(folder, camera)
    depth = np.full((120, 160), 2.34567, np.float32)
    depth[0, 0] = 0.0
    writer.add_frame(
        0,
        np.full((120, 160, 3), 100, np.uint8),
        depth,
        np.ones((120, 160), np.uint16) * 7,
        T_cam_section,
    )
    writer.add_frame(1, np.full((120, 160, 3), 50, np.uint8))
    writer.finish({"section": "../sec", "labels": []})
    return camera


def test_write_then_read_roundtrip(tmp_path):
    T = make_T(rotation_from_rotvec([0.1, -0.2, 0.3]), [0.5, -0.25, 3.0])
    camera = write_small_recording(tmp_path / "rec", T)
    rec = Recording(tmp_path / "rec")
    assert rec.frame_ids == [0, 1]
    np.testing.assert_allclose(rec.camera.K, camera.K)
    np.testing.assert_allclose(rec.T_cam_section(0), T, atol=1e-9)
    assert rec.T_cam_section(1) is None
    depth = rec.depth_m(0)
    assert depth.dtype == np.float32 and depth[0, 0] == 0.0
    assert abs(depth[5, 5] - 2.34567) <= 0.0001  # 0.2 mm steps
    assert rec.depth_m(1) is None
    assert rec.label_map(0)[3, 3] == 7
    assert rec.section_folder == (tmp_path / "sec").resolve()
    gt = json.loads((tmp_path / "rec" / "scene_gt.json").read_text())
    assert gt["0"][0]["obj_id"] == 0
    np.testing.assert_allclose(gt["0"][0]["cam_t_m2c"], [500.0, -250.0, 3000.0])


def test_bad_recordings_get_errors_naming_the_file(tmp_path):
    write_small_recording(tmp_path / "rec", np.eye(4))
    rec_dir = tmp_path / "rec"
    (rec_dir / "rgb" / "000001.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(DataFormatError) as info:
        Recording(rec_dir).bgr(1)
    assert info.value.path.name == "000001.png" and "cannot be decoded" in str(info.value)
    cv2.imwrite(str(rec_dir / "rgb" / "000001.png"), np.zeros((100, 100, 3), np.uint8))
    with pytest.raises(DataFormatError, match="100x100 px, the camera is 160x120"):
        Recording(rec_dir).bgr(1)
    (rec_dir / "scene_camera.json").unlink()
    with pytest.raises(DataFormatError) as info:
        Recording(rec_dir)
    assert info.value.path.name == "scene_camera.json"


def test_opens_a_plain_bop_scene(tmp_path):
    """BOP data sets: jpg frames, objects with obj_id >= 1, no camera.yaml, no recording.json."""
    scene = tmp_path / "000048"
    (scene / "rgb").mkdir(parents=True)
    for im_id in (3, 10):
        cv2.imwrite(str(scene / "rgb" / f"{im_id:06d}.jpg"), np.full((48, 64, 3), 128, np.uint8))
    K = [572.4, 0.0, 32.0, 0.0, 573.6, 24.0, 0.0, 0.0, 1.0]
    (scene / "scene_camera.json").write_text(
        json.dumps({str(i): {"cam_K": K, "depth_scale": 0.1} for i in (3, 10)})
    )
    gt = {
        "3": [
            {"obj_id": 5, "cam_R_m2c": np.eye(3).ravel().tolist(), "cam_t_m2c": [10.0, 20.0, 800.0]}
        ],
        "10": [],
    }
    (scene / "scene_gt.json").write_text(json.dumps(gt))
    rec = Recording(scene)
    assert rec.frame_ids == [3, 10]
    assert rec.camera.image_size_wh == (64, 48) and rec.camera.K[0, 0] == 572.4
    assert rec.meta == {} and rec.section_folder is None
    (obj,) = rec.gt_objects(3)
    assert obj.obj_id == 5
    np.testing.assert_allclose(obj.T_cam_obj[:3, 3], [0.01, 0.02, 0.8])
    assert rec.T_cam_section(3) is None
    assert rec.bgr(10).shape == (48, 64, 3)


def test_fixture_copy_with_corrupt_recording_json(tmp_path, fixtures_dir):
    shutil.copytree(fixtures_dir / "defects", tmp_path / "rec")
    (tmp_path / "rec" / "recording.json").write_text("{not json")
    rec = Recording(tmp_path / "rec")
    with pytest.raises(DataFormatError) as info:
        rec.meta  # noqa: B018
    assert info.value.path.name == "recording.json"


def test_recording_json_is_checked_against_its_schema(tmp_path, fixtures_dir):
    shutil.copytree(fixtures_dir / "defects", tmp_path / "rec")
    path = tmp_path / "rec" / "recording.json"
    doc = json.loads(path.read_text())
    doc["parts"][2]["status"] = "stolen"
    path.write_text(json.dumps(doc))
    with pytest.raises(DataFormatError) as info:
        Recording(tmp_path / "rec").meta  # noqa: B018
    assert info.value.field == "parts[2].status"
    path.write_text(json.dumps({"section": "../somewhere"}))  # real recordings: no truth
    assert Recording(tmp_path / "rec").section_folder == (tmp_path / "somewhere").resolve()
