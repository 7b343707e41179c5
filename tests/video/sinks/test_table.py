"""The tracks table: tidy CSV (or Parquet) rows, written atomically, nothing left by a failed run."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from openpose_py.errors import OutputError
from openpose_py.skeleton import COCO_18
from openpose_py.video.sinks.table import COLUMNS, TracksTableSink
from openpose_py.video import Frame, FrameResult, StreamInfo

from ...track.conftest import person

INFO = StreamInfo(name="clip", fps=25.0, size=(640, 480), frame_count=3)


def _results():
    image = np.zeros((480, 640, 3), np.uint8)
    for f in range(3):
        people = (person(COCO_18, 0, 200, 200, missing=(4,)).with_track_id(0),
                  person(COCO_18, 1, 400, 200).with_track_id(2))
        yield FrameResult(Frame(f * 2, image, f"clip_{f:012d}", timestamp=f * 2 / 50.0), people)


def _fill(sink: TracksTableSink) -> None:
    sink.open(INFO)
    for result in _results():
        sink.write(result)


def test_csv_has_one_row_per_frame_track_and_present_keypoint(tmp_path):
    sink = TracksTableSink(tmp_path / "tracks.csv")
    _fill(sink)
    assert not (tmp_path / "tracks.csv").exists(), "the file appears only when the run ends"
    sink.close()
    with open(tmp_path / "tracks.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == sink.rows == 3 * (17 + 18), "the missing right wrist has no row"
    last = rows[-1]
    assert (last["frame"], last["time"], last["track_id"], last["keypoint"]) == ("4", "0.08", "2", "LEar")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tracks.csv"]


def test_parquet_round_trips_through_pyarrow(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    sink = TracksTableSink(tmp_path / "tracks.parquet")
    _fill(sink)
    sink.close()
    table = pq.read_table(tmp_path / "tracks.parquet")
    assert table.column_names == list(COLUMNS) and table.num_rows == 105
    assert set(table.column("track_id").to_pylist()) == {0, 2}


def test_a_failed_run_leaves_no_file_and_parquet_without_pyarrow_is_a_clear_error(tmp_path, monkeypatch):
    sink = TracksTableSink(tmp_path / "tracks.csv")
    _fill(sink)
    sink.close(keep=False)
    assert list(tmp_path.iterdir()) == []
    import openpose_py.video.sinks.table as table

    monkeypatch.setattr(table.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(OutputError, match="Parquet needs pyarrow"):
        TracksTableSink(tmp_path / "tracks.parquet")
