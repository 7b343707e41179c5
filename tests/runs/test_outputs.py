"""Staged outputs of one input (published whole or discarded) and the inputs a resumed run skips, without the CLI."""

from __future__ import annotations

from pathlib import Path

from openpose_py.runs import FailureLog, Outputs, pending, staging_name


def test_staging_names_are_hidden_beside_the_final_ones(tmp_path: Path) -> None:
    assert staging_name(tmp_path / "clip.mp4") == tmp_path / ".clip.partial.mp4"
    assert staging_name(tmp_path / "clip") == tmp_path / ".clip.partial"
    assert Outputs((None, tmp_path / "a.mp4")).staged().paths == (None, tmp_path / ".a.partial.mp4")


def test_publish_replaces_an_earlier_run_and_discard_keeps_it(tmp_path: Path) -> None:
    final = Outputs((tmp_path / "json" / "clip", tmp_path / "out" / "clip.mp4"))
    (tmp_path / "json" / "clip").mkdir(parents=True)
    (tmp_path / "json" / "clip" / "old.json").write_text("old")
    stage = final.open_staged()  # the video's folder is made writable; nothing final is touched
    assert (tmp_path / "out").is_dir() and (tmp_path / "json" / "clip" / "old.json").exists()
    stage.paths[0].mkdir()
    (stage.paths[0] / "new.json").write_text("new")
    stage.paths[1].write_bytes(b"video")
    stage.publish_as(final)
    assert sorted(p.name for p in (tmp_path / "json" / "clip").iterdir()) == ["new.json"]
    assert (tmp_path / "out" / "clip.mp4").read_bytes() == b"video"
    assert not any(p.exists() for p in stage.present)
    # a second attempt that fails: its staged outputs go, the published ones stay
    stage = final.open_staged()
    stage.paths[1].write_bytes(b"half")
    stage.discard()
    assert not stage.paths[1].exists() and (tmp_path / "out" / "clip.mp4").read_bytes() == b"video"


def test_open_staged_removes_a_stopped_runs_leftovers(tmp_path: Path) -> None:
    final = Outputs((tmp_path / "clip",))
    leftover = staging_name(tmp_path / "clip")
    leftover.mkdir()
    (leftover / "frame.json").write_text("{}")
    assert final.open_staged().paths == (leftover,) and not leftover.exists()


def test_pending_skips_only_inputs_whose_every_output_exists(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "b.json").write_text("{}")
    (tmp_path / "c.json").mkdir()  # a folder where a file belongs is no output

    def outputs(name: str) -> Outputs:
        return Outputs((tmp_path / f"{name}.json", tmp_path / f"{name}.png"))

    assert pending(["a", "b", "c"], outputs, skip_existing=False) == ["a", "b", "c"]
    assert pending(["a", "b", "c"], outputs, skip_existing=True) == ["b", "c"]
    assert pending(["c"], lambda n: Outputs((tmp_path / f"{n}.json",)), True) == []
    assert pending(["c"], lambda n: Outputs((tmp_path / f"{n}.json",)), True, exists=Path.is_file) == ["c"]
    assert pending(["a"], lambda n: Outputs((None,)), skip_existing=True) == ["a"]  # nothing asked: nothing done


def test_a_collection_run_through_the_api(tmp_path: Path) -> None:
    """The module docstring's loop: a failed input is logged and leaves no output; a rerun skips finished ones."""
    inputs = ["good", "bad"]
    failures = FailureLog(tmp_path / "failed.jsonl")

    def run() -> None:
        for name in pending(inputs, lambda n: Outputs((tmp_path / "json" / n,)), skip_existing=True):
            final = Outputs((tmp_path / "json" / name,))
            stage = final.open_staged()
            try:
                stage.paths[0].mkdir()
                (stage.paths[0] / "0.json").write_text(name)
                if name == "bad":
                    raise ValueError("unreadable")
            except ValueError as exc:
                stage.discard()
                failures.add(name, str(exc))
            else:
                stage.publish_as(final)

    run()
    assert sorted(p.name for p in (tmp_path / "json").iterdir()) == ["good"]
    run()  # "good" is skipped, "bad" fails again
    assert [r["input"] for r in failures.records] == ["bad", "bad"]
    assert (tmp_path / "failed.jsonl").read_text().count("unreadable") == 2
