"""``OpenposeDetector``: a drop-in for controlnet_aux 0.0.10's, running this package's shipped network offline.

The call takes the same arguments and gives a picture of the same size and type: the input made (H, W, 3) RGB,
resized to ``detect_resolution`` (short side, then both sides to multiples of 64), people found on that picture and
drawn there on black in ControlNet's style (:mod:`.draw`), and the drawing resized (bilinear) to the size
``image_resolution`` gives the detect-size picture.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ..errors import OpenPoseError
from .draw import draw_poses
from .pictures import as_rgb, resize_image, resized_shape, to_pil
from .poses import PART_NAMES, PoseResult, pose_results

if TYPE_CHECKING:
    from ..inference import PoseEstimator

__all__ = ["OpenposeDetector"]

log = logging.getLogger(__name__)

#: Hugging Face repositories controlnet_aux loads its checkpoints from: here they mean the shipped model.
_HUB_NAMES = ("lllyasviel/Annotators", "lllyasviel/ControlNet")


class OpenposeDetector:
    """ControlNet's OpenPose preprocessor on this package's networks.

    >>> det = OpenposeDetector.from_pretrained("lllyasviel/Annotators")      # doctest: +SKIP
    >>> pose = det(pil_image, detect_resolution=512, image_resolution=512)   # doctest: +SKIP

    ``estimator`` is a :class:`~openpose_py.inference.PoseEstimator` (default: the shipped model,
    ``PoseEstimator.from_pretrained(model, backend=backend, device=device)``; nothing is downloaded).
    """

    def __init__(self, estimator: "PoseEstimator | None" = None, *, model: str | Path = "lightweight",
                 backend: str = "auto", device: str = "cpu") -> None:
        self._model, self._backend = model, backend
        self.estimator = estimator if estimator is not None else self._load(device)
        self._with_parts: dict[tuple[bool, bool], "PoseEstimator"] = {}

    def _estimator(self, hands: bool, face: bool) -> "PoseEstimator":
        """The estimator, finding hands and/or a face too when asked (the same network; made once per choice)."""
        config = self.estimator.parts.config
        if (config.hands or not hands) and (config.face or not face):  # it finds all that is asked already
            return self.estimator
        key = (hands, face)
        if key not in self._with_parts:
            from ..parts import PartsEstimator

            twin = self.estimator.with_decoder(self.estimator.decoder)  # the same network, shared
            twin.parts = PartsEstimator(replace(config, hands=hands, face=face))
            self._with_parts[key] = twin
        return self._with_parts[key]

    def _load(self, device: str) -> "PoseEstimator":
        from ..inference import PoseEstimator

        return PoseEstimator.from_pretrained(self._model, backend=self._backend, device=device)

    @classmethod
    def from_pretrained(cls, pretrained_model_or_path: str | Path = "lightweight", filename: str | None = None,
                        hand_filename: str | None = None, face_filename: str | None = None,
                        cache_dir: str | None = None, local_files_only: bool = False, **kwargs: Any
                        ) -> "OpenposeDetector":
        """controlnet_aux's constructor: a Hub repository name (``"lllyasviel/Annotators"``, or any ``owner/name``
        that is not a local path) means the shipped model, and the file names and cache options are ignored;
        a registered model name (``"lightweight"``...) or a weights file of this package loads that. Keyword
        arguments ``backend`` and ``device`` go to the estimator."""
        name = str(pretrained_model_or_path)
        if name in _HUB_NAMES or ("/" in name and not Path(name).exists()):
            log.info("%s: using the shipped lightweight model (nothing is downloaded)", name)
            name = "lightweight"
        return cls(model=name, **kwargs)

    def to(self, device: str) -> "OpenposeDetector":
        """Run on ``device`` (``"cpu"``, ``"cuda"``...); returns the detector, as controlnet_aux's does."""
        if str(device) != str(self.estimator.device):
            self.estimator = self._load(str(device))
            self._with_parts.clear()
        return self

    def detect_poses(self, oriImg: Any, include_hand: bool = False,  # noqa: N803 (controlnet_aux's name)
                     include_face: bool = False) -> list[PoseResult]:
        """People in an RGB picture (array, PIL image or path), as :class:`PoseResult` with coordinates normalised
        by its width and height; ``left_hand``/``right_hand``/``face`` (21, 21 and 70 points, a point not found at
        ``(-1, -1)``) are None unless asked for and found."""
        rgb = as_rgb(oriImg)
        height, width = rgb.shape[:2]
        people = self._estimator(include_hand, include_face)(np.ascontiguousarray(rgb[:, :, ::-1]))
        poses = pose_results(people, width, height)
        wanted = {"left_hand": include_hand, "right_hand": include_hand, "face": include_face}
        return [p._replace(**{name: None for name in PART_NAMES if not wanted[name]}) for p in poses]

    def __call__(self, input_image: Any, detect_resolution: Any = 512, image_resolution: Any = 512,
                 include_body: bool = True, include_hand: bool = False, include_face: bool = False,
                 hand_and_face: bool | None = None, output_type: Any = "pil", **kwargs: Any) -> Any:
        """The pose picture of ``input_image``: (H, W, 3) uint8 RGB as a PIL image (``output_type="pil"``) or an
        array (``"np"``); see the module's description for the sizes."""
        if hand_and_face is not None:
            warnings.warn("hand_and_face is deprecated. Use include_hand and include_face instead.",
                          DeprecationWarning, stacklevel=2)
            include_hand = include_face = bool(hand_and_face)
        if "return_pil" in kwargs:
            warnings.warn("return_pil is deprecated. Use output_type instead.", DeprecationWarning, stacklevel=2)
            output_type = "pil" if kwargs.pop("return_pil") else "np"
        pil = _wants_pil(output_type)
        image = resize_image(as_rgb(input_image), detect_resolution, "detect_resolution")
        height, width = image.shape[:2]
        out_h, out_w, _ = resized_shape(height, width, image_resolution, "image_resolution")
        poses = self.detect_poses(image, include_hand, include_face)
        canvas = draw_poses(poses, height, width, draw_body=include_body, draw_hand=include_hand,
                            draw_face=include_face)
        picture = cv2.resize(canvas, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
        return to_pil(picture) if pil else picture


def _wants_pil(output_type: Any) -> bool:
    if isinstance(output_type, bool):
        warnings.warn("Passing `True` or `False` to `output_type` is deprecated", DeprecationWarning, stacklevel=3)
        return output_type
    if output_type == "pil":
        return True
    if output_type in ("np", "numpy"):
        return False
    raise OpenPoseError(f'output_type must be "pil" or "np", got {output_type!r}')
