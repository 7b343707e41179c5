import numpy as np

from openpose_py.parts import FEET_NOT_GIVEN, to_body25
from openpose_py.results import Keypoint, Person
from openpose_py.skeleton import BODY_25, COCO_18


def test_body25_assembly_midhip_and_feet():
    pts = {"RHip": (10.0, 50.0), "LHip": (30.0, 54.0), "Nose": (20.0, 5.0)}
    person = Person(tuple(Keypoint(n, *pts[n], 0.8 if n == "RHip" else 0.6) if n in pts else None
                          for n in COCO_18.keypoints), 2.0, COCO_18, track_id=3)
    feet = np.full((6, 3), np.nan)
    feet[2] = (25.0, 90.0, 0.7)  # LHeel
    body = to_body25(person, feet)
    assert body.skeleton is BODY_25 and body.track_id == 3
    assert body["MidHip"] == Keypoint("MidHip", 20.0, 52.0, 0.6)
    assert body["LHeel"].y == 90.0 and body["LBigToe"] is None
    assert all(body[n] is None for n in FEET_NOT_GIVEN)
    assert to_body25(body) is body
    one_hip = Person(tuple(Keypoint(n, 1.0, 1.0, 0.5) if n == "RHip" else None for n in COCO_18.keypoints), 1.0,
                     COCO_18)
    assert to_body25(one_hip)["MidHip"] is None
