import json

import numpy as np
import pytest

from openpose_py.multiview import Person3D
from openpose_py.multiview.files import openpose_json_3d, trc_text, write_trc
from openpose_py.results import format_openpose_json

from .conftest import BODY, SKELETON


def test_the_trc_header_states_rate_units_counts_and_marker_names(tmp_path):
    points = np.stack([BODY, BODY + 0.01, BODY + 0.02])
    points[1, 4] = np.nan
    write_trc(tmp_path / "person_0.trc", points, SKELETON.keypoints, rate=50.0, units="mm", first_frame=10)
    lines = (tmp_path / "person_0.trc").read_text().split("\n")
    assert lines[0].split("\t") == ["PathFileType", "4", "(X/Y/Z)", "person_0.trc"]
    header = dict(zip(lines[1].split("\t"), lines[2].split("\t")))
    assert header == {"DataRate": "50", "CameraRate": "50", "NumFrames": "3", "NumMarkers": "18", "Units": "mm",
                      "OrigDataRate": "50", "OrigDataStartFrame": "11", "OrigNumFrames": "3"}
    names = lines[3].split("\t")
    assert names[:3] == ["Frame#", "Time", "Nose"] and names[2::3] == list(SKELETON.keypoints)
    assert lines[4].split("\t")[2:5] == ["X1", "Y1", "Z1"] and lines[4].split("\t")[-1] == "Z18"
    assert lines[5] == ""
    rows = [line.split("\t") for line in lines[6:-1]]
    assert [r[:2] for r in rows] == [["11", "0.200000"], ["12", "0.220000"], ["13", "0.240000"]]
    assert all(len(r) == 2 + 3 * 18 for r in rows)
    assert rows[1][2 + 12: 2 + 15] == ["", "", ""]  # the missing marker is empty
    np.testing.assert_allclose(np.array(rows[2][2:], dtype=float).reshape(18, 3), BODY + 0.02, atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [({"rate": 0.0}, "frame rate"), ({"units": "inch"}, "units")])
def test_bad_trc_arguments_are_refused(kwargs, message):
    args = {"points": np.zeros((1, 18, 3)), "markers": SKELETON.keypoints, "rate": 30.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        trc_text(**args)


def test_openpose_json_3d_holds_x_y_z_score_per_keypoint():
    points = BODY.copy()
    points[2] = np.nan
    person = Person3D(points, np.full(18, 0.8), SKELETON, track_id=7)
    doc = json.loads(format_openpose_json(openpose_json_3d([person])))
    (entry,) = doc["people"]
    assert entry["person_id"] == [7] and entry["pose_keypoints_2d"] == []
    flat = np.array(entry["pose_keypoints_3d"]).reshape(18, 4)
    np.testing.assert_allclose(flat[0], [0.0, -1.62, 0.08, 0.8])
    assert (flat[2] == 0).all()
    assert list(entry) == ["person_id", "pose_keypoints_2d", "face_keypoints_2d", "hand_left_keypoints_2d",
                           "hand_right_keypoints_2d", "pose_keypoints_3d", "face_keypoints_3d",
                           "hand_left_keypoints_3d", "hand_right_keypoints_3d"]
