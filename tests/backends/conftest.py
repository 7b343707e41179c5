"""Fixtures of the backend tests: a tiny random network and its ONNX export, the real lightweight network and two
dev photos as network inputs."""

from __future__ import annotations

import pytest
import torch

from openpose_py import COCO_18
from openpose_py.backends import cached_onnx
from openpose_py.images import load_image
from openpose_py.models.lightweight import lightweight
from openpose_py.preprocess import PreprocessSpec, preprocess

from ..conftest import DEV_SET, WEIGHTS_DIR, require_shared

HPE = WEIGHTS_DIR / "hpe-0001"
IR = HPE / "human-pose-estimation-0001.xml"
DEV_IMAGES = DEV_SET / "images"
SPEC = PreprocessSpec(mean=128.0, std=255.0, height=368)

needs_weights = pytest.mark.shared("weights/hpe-0001/human-pose-estimation-0001.xml")


class TinySpec:
    """The fields of a WeightsSpec that make_runner reads."""

    name = "tiny"
    skeleton = COCO_18
    preprocess = SPEC
    sources = ()


@pytest.fixture(scope="session")
def tiny():
    torch.manual_seed(0)
    return lightweight(width=0.125).eval()


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def tiny_onnx(tiny, cache):
    return cached_onnx(tiny, "tiny", cache)


@pytest.fixture(scope="session")
def real(lightweight_estimator):
    return lightweight_estimator.model


@pytest.fixture(scope="session")
def dev_images():
    require_shared(DEV_IMAGES)
    return [load_image(p) for p in sorted(DEV_IMAGES.glob("*.jpg"))[:2]]


@pytest.fixture(scope="session")
def dev_inputs(lightweight_estimator, dev_images):
    return [preprocess(im, lightweight_estimator.preprocess_spec)[0] for im in dev_images]
