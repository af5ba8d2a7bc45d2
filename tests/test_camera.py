import cv2
import numpy as np
import pytest

from arinspect.camera import CameraModel, default_camera, load_camera, save_camera
from arinspect.errors import DataFormatError

# As OpenCV 4's calibration sample (samples/cpp/calibration.cpp) writes it: old YAML header,
# distortion as a 5x1 column, extra keys the reader must ignore.
OPENCV4_CALIBRATION_OUTPUT = """%YAML:1.0
---
calibration_time: "Thu 12 Nov 2026 10:15:01 CET"
nr_of_frames: 18
image_width: 1280
image_height: 720
board_width: 9
board_height: 6
square_size: 2.5000000372529030e-02
flags: 0
camera_matrix: !!opencv-matrix
   rows: 3
   cols: 3
   dt: d
   data: [ 9.1215e+02, 0., 6.4012e+02, 0., 9.1190e+02, 3.6144e+02, 0., 0., 1. ]
distortion_coefficients: !!opencv-matrix
   rows: 5
   cols: 1
   dt: d
   data: [ -1.2e-01, 8.5e-02, 1.0e-04, -2.0e-04, -2.1e-02 ]
avg_reprojection_error: 2.1e-01
"""


@pytest.fixture
def distorted_camera() -> CameraModel:
    K = np.array([[610.0, 0.0, 322.3], [0.0, 608.0, 241.1], [0.0, 0.0, 1.0]])
    return CameraModel(K, np.array([-0.28, 0.09, 0.0012, -0.0008, -0.01]), (640, 480))


def test_reads_a_file_written_by_opencv4_calibration(tmp_path):
    path = tmp_path / "headset.yaml"
    path.write_text(OPENCV4_CALIBRATION_OUTPUT)
    camera = load_camera(path)
    assert camera.image_size_wh == (1280, 720)
    assert camera.K[0, 0] == pytest.approx(912.15)
    np.testing.assert_allclose(camera.dist, [-0.12, 0.085, 1e-4, -2e-4, -0.021])


def test_save_load_roundtrip_is_what_cv2_filestorage_reads(tmp_path, distorted_camera):
    path = save_camera(distorted_camera, tmp_path / "cam.yaml", {"avg_reprojection_error": 0.25})
    loaded = load_camera(path)
    np.testing.assert_array_equal(loaded.K, distorted_camera.K)
    np.testing.assert_array_equal(loaded.dist, distorted_camera.dist)
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    assert fs.getNode("image_height").real() == 480
    assert fs.getNode("avg_reprojection_error").real() == pytest.approx(0.25)
    fs.release()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("%YAML:1.0\nimage_width: 640\n", "image_height"),
        ("%YAML:1.0\nimage_width: 640\nimage_height: 480\n", "camera_matrix"),
        (
            "%YAML:1.0\nimage_width: 640\nimage_height: 480\ncamera_matrix: !!opencv-matrix\n"
            "   rows: 2\n   cols: 2\n   dt: d\n   data: [ 1., 0., 0., 1. ]\n",
            "camera_matrix",
        ),
        ("this: [is: not yaml", ""),
    ],
)
def test_malformed_files_name_the_file_and_field(tmp_path, text, field):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(DataFormatError) as info:
        load_camera(path)
    assert info.value.path == path
    assert info.value.field == field
    with pytest.raises(DataFormatError, match="not found"):
        load_camera(tmp_path / "missing.yaml")


def test_projection_matches_opencv_with_distortion(distorted_camera):
    rng = np.random.default_rng(3)
    pts_cam = np.column_stack([rng.uniform(-1, 1, (50, 2)), rng.uniform(1.0, 5.0, 50)])
    uv, z = distorted_camera.project(np.eye(4), pts_cam)
    expected, _ = cv2.projectPoints(
        pts_cam, np.zeros(3), np.zeros(3), distorted_camera.K, distorted_camera.dist
    )
    np.testing.assert_allclose(uv, expected.reshape(-1, 2), atol=1e-9)
    np.testing.assert_allclose(z, pts_cam[:, 2])
    behind, _ = distorted_camera.project(np.eye(4), np.array([[0.0, 0.0, -1.0]]))
    assert np.isnan(behind).all()


@pytest.mark.parametrize("use_distortion", [False, True])
def test_pixel_rays_reproject_onto_their_pixel_centres(distorted_camera, use_distortion):
    camera = distorted_camera if use_distortion else default_camera()
    rays = camera.pixel_rays_cam
    assert rays.shape == (camera.height, camera.width, 3)
    assert np.all(rays[..., 2] == 1.0)
    sample = rays[::37, ::41].reshape(-1, 3)
    uv, _ = camera.project(np.eye(4), sample)
    v, u = np.mgrid[0 : camera.height : 37, 0 : camera.width : 41]
    np.testing.assert_allclose(uv, np.column_stack([u.ravel(), v.ravel()]), atol=1e-6)


def test_default_camera_and_scaling():
    camera = default_camera()
    assert camera.image_size_wh == (640, 480)
    assert camera.K[0, 0] == 600.0 and not camera.has_distortion
    quarter = camera.scaled(0.25)
    assert quarter.image_size_wh == (160, 120)
    # The image centre stays the image centre.
    assert quarter.K[0, 2] == pytest.approx((160 - 1) / 2)
    with pytest.raises(ValueError):
        CameraModel(np.eye(3), np.zeros(3), (640, 480))
