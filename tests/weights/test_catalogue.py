"""The registered entries match the files they name."""

from __future__ import annotations

from openpose_py import weights as W
from openpose_py.skeleton import COCO_18

from .conftest import SHARED_WEIGHTS, needs_shared


@needs_shared
def test_registered_lightweight_entry_matches_shared_files():
    spec = W.get_spec("lightweight")
    assert W.get_spec("hpe-0001") is spec and W.get_spec("lightweight-coco18") is spec
    assert spec.skeleton is COCO_18 and spec.preprocess.std == 255.0 and spec.preprocess.pad == "center"
    for source in spec.sources:
        path = SHARED_WEIGHTS / "hpe-0001" / source.filename
        assert W.sha256_file(path) == source.sha256 and path.stat().st_size == source.size
    assert [s.companion for s in spec.sources] == [False, True, False]
    original = W.get_spec("lightweight-370k")
    assert original.sources[0].sha256 == "" and dict(original.arch_kwargs)["variant"] == "original"
