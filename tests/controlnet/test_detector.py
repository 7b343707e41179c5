"""OpenposeDetector: controlnet_aux 0.0.10's call, sizes and types, its pictures for the poses found, offline."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from openpose_py.controlnet import OpenposeDetector, ResolutionError
from openpose_py.errors import ImageReadError, OpenPoseError
from openpose_py.images import load_image

from .conftest import reference_draw_poses

PHOTO = "mmpose-samples/coco/000000197388.jpg"


@pytest.fixture(scope="module")
def det(default_estimator) -> OpenposeDetector:
    return OpenposeDetector(default_estimator)


@pytest.fixture(scope="module")
def photo(shared_dir) -> np.ndarray:
    return np.ascontiguousarray(load_image(shared_dir / "data" / PHOTO)[:, :, ::-1])  # RGB, as PIL gives it


def test_from_pretrained_takes_controlnet_aux_names_offline() -> None:
    det = OpenposeDetector.from_pretrained("lllyasviel/ControlNet", backend="torch")
    assert det.estimator.spec.name == "lightweight" and det.estimator.backend == "torch"
    assert det.to("cpu") is det


@pytest.mark.parametrize("detect, image", [(512, 512), (384, 768)])
def test_picture_is_controlnet_aux_pipeline(reference, det, photo, detect, image) -> None:
    """HWC3 -> resize to the detect resolution -> draw there -> bilinear resize to what the image resolution gives
    the detect-size picture: controlnet_aux's own functions around the poses found give the same array."""
    ours = det(photo, detect_resolution=detect, image_resolution=image, output_type="np")
    small = reference.resize_image(reference.HWC3(photo), detect)
    poses = det.detect_poses(small)
    assert len(poses) >= 3
    canvas = reference.HWC3(reference_draw_poses(reference, poses, *small.shape[:2]))
    height, width = reference.resize_image(small, image).shape[:2]
    np.testing.assert_array_equal(ours, cv2.resize(canvas, (width, height), interpolation=cv2.INTER_LINEAR))


def test_output_types_and_flags(det, photo) -> None:
    pil = det(photo)
    assert type(pil).__name__ == "Image" and pil.mode == "RGB" and pil.size == (832, 512)  # 640x392: 512 / 392 * 640 = 835.9 -> 832
    assert not det(photo, include_body=False, output_type="np").any()  # no hands or faces asked for
    with pytest.warns(DeprecationWarning):
        assert isinstance(det(photo, output_type=False), np.ndarray)
    with pytest.warns(DeprecationWarning):
        assert isinstance(det(photo, return_pil=False), np.ndarray)
    with pytest.warns(DeprecationWarning):
        det(photo, hand_and_face=False, output_type="np")
    with pytest.raises(OpenPoseError, match="output_type"):
        det(photo, output_type="tensor")


def test_poses_are_normalised_with_scores_and_ids(det, photo) -> None:
    poses = det.detect_poses(photo)
    assert all(p.left_hand is None and p.right_hand is None and p.face is None for p in poses)  # not asked for
    points = [k for p in poses for k in p.body.keypoints if k is not None]
    assert all(0 <= k.x <= 1 and 0 <= k.y <= 1 and 0 < k.score <= 1 for k in points)
    assert sorted(k.id for k in points) == list(range(len(points)))
    assert all(p.body.total_parts == sum(k is not None for k in p.body.keypoints) for p in poses)
    assert all(len(p.body.keypoints) == 18 for p in poses)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16"])
def test_every_pil_mode_gives_a_picture(det, photo, mode, tmp_path) -> None:
    Image = pytest.importorskip("PIL.Image")
    if mode == "I;16":
        cv2.imwrite(str(tmp_path / "deep.png"), cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY).astype(np.uint16) * 257)
        picture = Image.open(tmp_path / "deep.png")
    else:
        picture = Image.fromarray(photo).convert(mode)
    out = det(picture, output_type="np")
    assert out.shape == (512, 832, 3) and out.any()


def test_bad_input_is_one_clear_error(det, photo) -> None:
    with pytest.raises(ResolutionError, match="detect_resolution"):
        det(photo, detect_resolution=0)
    with pytest.raises(ResolutionError, match="image_resolution 100000 would make"):
        det(photo, image_resolution=100000)
    with pytest.raises(ImageReadError, match="channels first"):
        det(np.transpose(photo, (2, 0, 1)))
    with pytest.raises(ImageReadError):
        det(photo[:, :, :2])


def test_hands_and_face_found_and_drawn_like_controlnet_aux(reference, det, shared_dir) -> None:
    """A selfie frame: the person's hand and face found, normalised, and the whole picture as controlnet_aux's
    functions make it from the same poses."""
    video = cv2.VideoCapture(str(shared_dir / "data" / "videos" / "selfie_upper_body.mp4"))
    video.set(cv2.CAP_PROP_POS_FRAMES, 30)
    ok, frame = video.read()
    assert ok
    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    ours = det(rgb, include_hand=True, include_face=True, output_type="np")
    small = reference.resize_image(rgb, 512)
    poses = det.detect_poses(small, include_hand=True, include_face=True)
    hands = [h for p in poses for h in (p.left_hand, p.right_hand) if h is not None]
    faces = [p.face for p in poses if p.face is not None]
    assert hands and faces and all(len(h) == 21 for h in hands) and all(len(f) == 70 for f in faces)
    assert all(k == (-1.0, -1.0, 0.0, -1) or (0 <= k.x <= 1 and 0 <= k.y <= 1) for h in hands + faces for k in h)
    canvas = reference_draw_poses(reference, poses, *small.shape[:2])
    height, width = reference.resize_image(small, 512).shape[:2]
    np.testing.assert_array_equal(ours, cv2.resize(canvas, (width, height), interpolation=cv2.INTER_LINEAR))
    body_only = det(rgb, output_type="np")
    assert (ours != body_only).any()  # the hand and the face are drawn
