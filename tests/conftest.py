"""Shared fixtures: the ../shared assets beside the project, found the way users find weights."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# as the package does for its users (openpose_py/__init__.py), before torch loads: idle OpenMP threads must not spin
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("OPENPOSE_PY_SHARED", REPO_ROOT.parent / "shared")).resolve()
WEIGHTS_DIR = SHARED / "weights"
DEV_SET = SHARED / "data" / "coco-val2017-dev"
MMPOSE_COCO = SHARED / "data" / "mmpose-samples" / "coco"
MEDIA_PHOTO = SHARED / "data" / "openpose-media" / "COCO_val2014_000000000192.jpg"  # four people

# Tests find weights through the same resolution users have and never download: the default model from the files
# shipped in the checkout's weights/ folder (no variable needed), anything else from a folder a test names itself.
os.environ.pop("OPENPOSE_PY_WEIGHTS_DIR", None)
os.environ["OPENPOSE_PY_OFFLINE"] = "1"
torch.set_num_threads(min(2, torch.get_num_threads()))


def require_shared(*paths: Path) -> None:
    """Skip the running test, with one line naming what is missing, when a path under ../shared is absent (a fresh
    clone has no ../shared); under CI=true fail instead, so that CI never passes by skipping (README, "Tests")."""
    missing = [p for p in (paths or (SHARED,)) if not Path(p).exists()]
    if not missing:
        return
    where = ", ".join(str(Path(p).relative_to(SHARED)) if Path(p).is_relative_to(SHARED) else str(p) for p in missing)
    message = f"needs the shared test data ({where}) under {SHARED}; set OPENPOSE_PY_SHARED (README, 'Tests')"
    if SHARED in missing:
        message = f"needs the shared test data folder, absent at {SHARED}; set OPENPOSE_PY_SHARED (README, 'Tests')"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "shared(*paths): needs these paths under ../shared (relative to it; none: the "
                                       "folder itself); skipped when absent, an error under CI=true")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("shared"):
        require_shared(*(SHARED / p for p in mark.args))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    require_shared()
    return SHARED


@pytest.fixture(scope="session")
def dev_set() -> tuple[Path, Path]:
    """(images dir, annotations file) of the 24 COCO val2017 dev photos."""
    require_shared(DEV_SET)
    return DEV_SET / "images", DEV_SET / "person_keypoints.json"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test session converts weights into its own cache, never the user's."""
    monkeypatch.setenv("OPENPOSE_PY_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def lightweight_estimator():
    """The pretrained lightweight network (hpe-0001) at height 368, default decoder, in torch float32: the reference
    that the other backends and the published figures are compared with; shared by the tests."""
    from openpose_py import PoseEstimator

    return PoseEstimator.from_pretrained("lightweight", backend="torch")


@pytest.fixture(scope="session")
def default_estimator():
    """What a user gets from ``PoseEstimator.from_pretrained()``: the shipped model on the ``auto`` backend."""
    from openpose_py import PoseEstimator

    return PoseEstimator.from_pretrained()


class InputLog:
    """The (width, height) of every network input a :func:`low_estimator` ran, to bound work without timing it."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def clear(self) -> None:
        self.sizes.clear()


@pytest.fixture(scope="session")
def low_estimator(lightweight_estimator):
    """``(make, log)``: ``make(limits=..., **kwargs)`` builds a height-160 estimator on the session's network
    whose every network input size is recorded in ``log``; cheap, so tests can build one per limits."""
    from openpose_py import PoseEstimator

    log = InputLog()

    def run(x: torch.Tensor):
        log.sizes.append((int(x.shape[3]), int(x.shape[2])))
        return lightweight_estimator._run(x)

    def make(**kwargs):
        kwargs.setdefault("height", 160)
        return PoseEstimator(lightweight_estimator.model, lightweight_estimator.spec, runner=run, **kwargs)

    return make, log
