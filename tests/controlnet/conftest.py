"""controlnet_aux 0.0.10's own drawing and resizing code, the reference the pixel-identity tests compare with.

Its modules are loaded from the installed package without running the package's ``__init__`` (which imports every
detector, torchvision and timm): a bare parent package is registered under a private name, and ``open_pose/util.py``
(with the ``body.py`` it needs for its result types) and the top-level ``util.py`` are imported inside it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
import warnings
from pathlib import Path

import pytest

_NAME = "_controlnet_aux_reference"


def _load_reference() -> types.SimpleNamespace:
    spec = importlib.util.find_spec("controlnet_aux")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("controlnet-aux 0.0.10 is not installed (pip install --no-deps controlnet-aux==0.0.10 matplotlib)")
    root = Path(list(spec.submodule_search_locations)[0])
    if _NAME not in sys.modules:
        for name, folder in ((_NAME, root), (f"{_NAME}.open_pose", root / "open_pose")):
            package = types.ModuleType(name)
            package.__path__ = [str(folder)]
            sys.modules[name] = package
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # its body.py imports scipy.ndimage.filters
        open_pose_util = importlib.import_module(f"{_NAME}.open_pose.util")
        util = importlib.import_module(f"{_NAME}.util")
    return types.SimpleNamespace(draw_bodypose=open_pose_util.draw_bodypose, draw_handpose=open_pose_util.draw_handpose,
                                 draw_facepose=open_pose_util.draw_facepose, HWC3=util.HWC3,
                                 resize_image=util.resize_image)


@pytest.fixture(scope="session")
def reference() -> types.SimpleNamespace:
    """controlnet_aux's ``draw_bodypose``, ``draw_handpose``, ``draw_facepose``, ``HWC3`` and ``resize_image``."""
    pytest.importorskip("matplotlib", reason="controlnet_aux's hand drawing needs matplotlib")
    return _load_reference()


def reference_draw_poses(ref: types.SimpleNamespace, poses, H: int, W: int, draw_body: bool = True,
                         draw_hand: bool = True, draw_face: bool = True):
    """controlnet_aux's ``draw_poses`` (which lives in the package's ``__init__``) from its util functions: a black
    canvas, then per person the body, the left hand, the right hand and the face."""
    import numpy as np

    canvas = np.zeros((H, W, 3), dtype=np.uint8)
    for pose in poses:
        if draw_body:
            canvas = ref.draw_bodypose(canvas, pose.body.keypoints)
        if draw_hand:
            canvas = ref.draw_handpose(canvas, pose.left_hand)
            canvas = ref.draw_handpose(canvas, pose.right_hand)
        if draw_face:
            canvas = ref.draw_facepose(canvas, pose.face)
    return canvas
