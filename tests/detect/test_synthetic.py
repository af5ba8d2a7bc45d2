from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from arinspect.detect.synthetic import (
    ANNOTATIONS,
    DatasetSpec,
    random_background,
    random_palette,
    write_dataset,
)
from arinspect.render.materials import DEFAULT_PART_BGR

SPEC = DatasetSpec(
    section_seeds=(31,), frames_per_section=3, image_size_wh=(256, 192), focal_px=240.0, seed=4
)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dataset")
    write_dataset(SPEC, folder)
    return folder


@pytest.mark.slow
def test_dataset_has_images_boxes_and_its_recipe(dataset):
    document = json.loads((dataset / ANNOTATIONS).read_text())
    assert document["classes"][0] == "tripping_bracket" and len(document["classes"]) == 9
    assert document["recipe"]["section_seeds"] == [31]
    assert len(document["images"]) == 3
    n_boxes = 0
    for entry in document["images"]:
        image = cv2.imread(str(dataset / entry["file"]))
        assert image.shape == (192, 256, 3)
        for box in entry["boxes"]:
            x0, y0, x1, y1 = box["box_xyxy_px"]
            assert 0 <= x0 < x1 <= 256 and 0 <= y0 < y1 <= 192
            assert 12 <= box["visible_px"] <= (x1 - x0) * (y1 - y0)
            assert box["class"] in document["classes"]
            assert box["part_id"]
            n_boxes += 1
    assert n_boxes > 0


@pytest.mark.slow
def test_dataset_is_reproducible(dataset, tmp_path):
    again = tmp_path / "again"
    write_dataset(SPEC, again)
    first = json.loads((dataset / ANNOTATIONS).read_text())["images"]
    second = json.loads((again / ANNOTATIONS).read_text())["images"]
    assert first == second
    a = cv2.imread(str(dataset / first[0]["file"]))
    b = cv2.imread(str(again / second[0]["file"]))
    assert np.array_equal(a, b)


def test_palettes_vary_but_stay_valid_albedos():
    rng = np.random.default_rng(0)
    palettes = [random_palette(rng) for _ in range(20)]
    for palette in palettes:
        assert set(DEFAULT_PART_BGR) <= set(palette.parts)
        values = np.array(list(palette.parts.values()) + list(palette.structure.values()))
        assert values.min() >= 0.0 and values.max() <= 0.9
    collar = np.array([p.parts["collar_plate"] for p in palettes])
    assert collar.std(axis=0).max() > 0.02


def test_background_is_in_range_and_not_flat():
    background = random_background((48, 64), np.random.default_rng(1))
    assert background.shape == (48, 64, 3)
    assert 0.0 <= background.min() and background.max() <= 1.0
    assert background.std() > 0.005
