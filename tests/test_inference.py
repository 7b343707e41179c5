"""PoseEstimator with the real pretrained lightweight network on real photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from openpose_py import COCO_18, DecoderConfig, Person, PoseEstimator
from openpose_py.errors import ImageReadError
from openpose_py.evaluate import evaluate

SINGLE_SCALE_DEV_AP = 0.497  # measured with the default decoder at height 368


@pytest.fixture(scope="module")
def single_scale_dev_ap(lightweight_estimator, dev_set) -> float:
    return evaluate(lightweight_estimator, *dev_set).ap


@pytest.mark.slow
def test_single_scale_dev_ap(single_scale_dev_ap):
    assert single_scale_dev_ap >= SINGLE_SCALE_DEV_AP - 0.02


def test_multiscale_average_is_decoded_with_the_multiscale_threshold(lightweight_estimator):
    def threshold(scales, decoder="default"):
        est = PoseEstimator(lightweight_estimator.model, lightweight_estimator.spec, scales=scales, decoder=decoder)
        return est._map_decoder.peak_threshold

    assert threshold((1.0,)) == 0.1 and threshold((0.5, 1.0)) == 0.05
    assert threshold((0.5, 1.0), "cvpr2017") == 0.1  # the reference presets keep their own thresholds
    assert threshold((0.5, 1.0), "openpose-cpp") == 0.05 == threshold((1.0,), "openpose-cpp")
    assert threshold((0.5, 1.0), DecoderConfig(multiscale_peak_threshold=0.07)) == 0.07


@pytest.mark.slow
def test_multiscale_and_flip_beat_single_scale_on_dev(lightweight_estimator, dev_set, single_scale_dev_ap):
    fancy = PoseEstimator(lightweight_estimator.model, lightweight_estimator.spec, scales=(0.5, 1.0, 1.5, 2.0),
                          flip=True)
    assert fancy._map_decoder.peak_threshold == fancy.decoder.multiscale_peak_threshold
    # measured 0.581 against 0.501; the margin keeps the gain well clear of one person's worth of noise
    assert evaluate(fancy, *dev_set).ap >= single_scale_dev_ap + 0.04


def test_people_are_typed_and_in_image_pixels(lightweight_estimator, dev_set):
    image = cv2.imread(str(dev_set[0] / "000000349860.jpg"))
    people = lightweight_estimator(image)
    assert people and all(isinstance(p, Person) for p in people)
    h, w = image.shape[:2]
    best = people[0]
    assert best.skeleton is COCO_18 and best.num_parts >= 10
    arr = best.as_array()
    ok = ~np.isnan(arr[:, 0])
    assert np.all((arr[ok, 0] >= -1) & (arr[ok, 0] <= w) & (arr[ok, 1] >= -1) & (arr[ok, 1] <= h))
    assert [p.score for p in people] == sorted((p.score for p in people), reverse=True)
    assert best["Neck"] is not None and best.to_coco17().shape == (17, 3)


def test_batch_equals_single_images(lightweight_estimator, dev_set):
    files = sorted(dev_set[0].glob("*.jpg"))[:3]
    batch = lightweight_estimator.predict_batch(files)
    for f, people in zip(files, batch):
        single = lightweight_estimator(f)
        assert len(single) == len(people)
        for a, b in zip(single, people):
            np.testing.assert_allclose(np.nan_to_num(a.as_array()), np.nan_to_num(b.as_array()), atol=0.5)


def test_grayscale_and_rgba_are_converted(lightweight_estimator, dev_set):
    image = cv2.imread(str(dev_set[0] / "000000349860.jpg"))
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    assert len(lightweight_estimator(gray)) >= 1
    assert len(lightweight_estimator(bgra)) == len(lightweight_estimator(image))


def test_bad_images_raise_clear_errors(lightweight_estimator, tmp_path):
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("this is not a picture")
    with pytest.raises(ImageReadError, match="not a readable image"):
        lightweight_estimator(not_image)
    with pytest.raises(ImageReadError, match="no such image"):
        lightweight_estimator(tmp_path / "missing.png")
    with pytest.raises(ImageReadError, match="empty image"):
        lightweight_estimator(np.zeros((0, 0, 3), np.uint8))
    with pytest.raises(ImageReadError, match="unsupported image shape"):
        lightweight_estimator(np.zeros((4, 4, 5), np.uint8))


def test_blank_image_has_nobody(lightweight_estimator):
    assert lightweight_estimator(np.full((120, 160, 3), 127, np.uint8)) == []
    assert lightweight_estimator(np.zeros((3, 2, 3), np.uint8)) == []


def test_network_output_is_in_image_pixels(lightweight_estimator, dev_set):
    image = cv2.imread(str(dev_set[0] / "000000349860.jpg"))
    maps = lightweight_estimator.network_output(image)
    h, w = image.shape[:2]
    assert maps.heatmaps.shape == (19, h, w) and maps.pafs.shape == (38, h, w)
    people = lightweight_estimator(image)
    neck = people[0]["Neck"]
    value = maps.heatmaps[1, int(round(neck.y)), int(round(neck.x))]
    assert value > 0.5 and abs(value - neck.score) < 0.15


def test_flip_and_multiscale_keep_people_in_place(dev_set):
    image = cv2.imread(str(dev_set[0] / "000000349860.jpg"))
    plain = PoseEstimator.from_pretrained("lightweight", height=256)
    fancy = PoseEstimator.from_pretrained("lightweight", height=256, scales=(0.75, 1.0), flip=True)
    a, b = plain(image)[0].as_array(), fancy(image)[0].as_array()
    both = ~np.isnan(a[:, 0]) & ~np.isnan(b[:, 0])
    assert both.sum() >= 10
    assert np.median(np.abs(a[both, :2] - b[both, :2])) < 6.0
    # flip averaging is symmetric: a mirrored image gives mirrored people
    mirrored = fancy(image[:, ::-1])[0].as_array()
    w = image.shape[1]
    mirrored_back = mirrored[list(COCO_18.flip_keypoints)]
    ok = both & ~np.isnan(mirrored_back[:, 0])
    assert np.median(np.abs((w - 1 - mirrored_back[ok, 0]) - b[ok, 0])) < 3.0


def test_invalid_options():
    with pytest.raises(ValueError):
        PoseEstimator.from_pretrained("lightweight", scales=())
    with pytest.raises(ValueError):
        PoseEstimator.from_pretrained("lightweight", height=4)
