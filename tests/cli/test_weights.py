"""``openpose-py weights``: listing with sha256 status, verify, fetch (offline) and import into the cache; one account
of what is present (shipped files, a weights folder, converted cache entries) shared with the loader."""

from __future__ import annotations

from pathlib import Path

from openpose_py.errors import ChecksumError, WeightsError, WeightsNotFoundError
from openpose_py.weights import shipped_dir

from .conftest import WEIGHTS, error_of, needs_weights


@needs_weights
def test_list_shows_entries_locations_sha256_status_sources_and_licence(invoke, monkeypatch):
    shipped = invoke("weights", "list", "lightweight", "cmu-coco")
    assert shipped.exit_code == 0, shipped.output
    out = shipped.stdout
    assert "weights dir: (OPENPOSE_PY_WEIGHTS_DIR not set)" in out
    line = next(ln for ln in out.splitlines() if "human-pose-estimation-0001.bin" in ln and "shipped" in ln)
    assert "sha256 ok" in line and str(shipped_dir() / "human-pose-estimation-0001.bin") in line
    assert "lightweight (aliases: hpe-0001, lightweight-coco18): ready" in out and "licence: Apache-2.0" in out
    assert "cmu-coco (aliases: cmu-coco18, openpose-coco): not present" in out
    assert "source: body_pose_model.pth <- https://huggingface.co/lllyasviel/Annotators/resolve/main/" \
           "body_pose_model.pth" in out
    monkeypatch.setenv("OPENPOSE_PY_WEIGHTS_DIR", str(WEIGHTS))
    listed = invoke("weights", "list").stdout
    assert f"weights dir: {WEIGHTS}" in listed
    line = next(ln for ln in listed.splitlines() if "hpe0001_float32_ir_names.pth" in ln)
    assert "sha256 ok" in line and str(WEIGHTS / "hpe-0001" / "hpe0001_float32_ir_names.pth") in line
    assert "cmu-body25" in listed and "missing" in listed


def test_a_weights_folder_variable_that_names_no_folder_is_an_error(invoke, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENPOSE_PY_WEIGHTS_DIR", str(tmp_path / "typo"))
    result = invoke("weights", "list")
    assert result.exit_code == 1 and isinstance(result.exception, WeightsError)
    assert error_of(result) == (f"$OPENPOSE_PY_WEIGHTS_DIR={tmp_path / 'typo'}: no such directory; point it at the "
                                "folder that holds the weights files, or unset it")


@needs_weights
def test_list_verify_and_the_loader_agree_on_converted_files(invoke, monkeypatch, tmp_path):
    """With only a converted cache entry (no original anywhere), every command says the model is there, and a
    corrupt converted file is reported missing and not loaded."""
    from openpose_py.weights import find_local, load_model

    monkeypatch.setenv("OPENPOSE_PY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENPOSE_PY_WEIGHTS_DIR", str(WEIGHTS / "hpe-0001"))
    load_model("lightweight")  # converts into the empty cache
    converted = next(f.path for f in find_local("lightweight") if f.status == "converted")
    # no original left: the package's shipped folder is hidden and the weights folder is empty
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("OPENPOSE_PY_WEIGHTS_DIR", str(empty))
    monkeypatch.setattr("openpose_py.weights.store.shipped_dir", lambda: None)
    assert "lightweight (aliases: hpe-0001, lightweight-coco18): ready" in invoke("weights", "list").stdout
    assert invoke("weights", "verify", "lightweight").exit_code == 0
    load_model("lightweight")
    data = bytearray(Path(converted).read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    Path(converted).write_bytes(bytes(data))
    assert "not present" in invoke("weights", "list", "lightweight").stdout
    gone = invoke("weights", "verify", "lightweight")
    assert gone.exit_code == 1 and isinstance(gone.exception, WeightsNotFoundError)


@needs_weights
def test_verify_passes_on_good_files_and_fails_on_a_corrupt_copy(invoke, monkeypatch, tmp_path):
    good = invoke("weights", "verify", "lightweight")
    assert good.exit_code == 0 and "every file found matches" in good.stdout
    (tmp_path / "hpe0001_float32_ir_names.pth").write_bytes(b"corrupt")
    monkeypatch.setenv("OPENPOSE_PY_WEIGHTS_DIR", str(tmp_path))
    bad = invoke("weights", "verify")
    assert bad.exit_code == 1 and isinstance(bad.exception, ChecksumError)
    assert "hpe0001_float32_ir_names.pth has sha256" in error_of(bad)
    absent = invoke("weights", "verify", "cmu-coco")
    assert absent.exit_code == 1 and isinstance(absent.exception, WeightsNotFoundError)


@needs_weights
def test_fetch_finds_local_files_and_explains_what_is_missing_offline(invoke):
    found = invoke("weights", "fetch", "hpe-0001")
    assert found.exit_code == 0 and found.stdout.strip().startswith(str(shipped_dir()))
    missing = invoke("weights", "fetch", "cmu-body25")
    assert missing.exit_code == 1 and isinstance(missing.exception, WeightsNotFoundError)
    message = error_of(missing)
    assert "pose_iter_584000.caffemodel" in message and "(shipped)" in message and "$OPENPOSE_PY_OFFLINE" in message
    unknown = invoke("weights", "fetch", "no-such-weights")
    assert unknown.exit_code == 2 and "unknown weights 'no-such-weights'" in error_of(unknown)


@needs_weights
def test_import_converts_an_ir_into_the_cache(invoke, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENPOSE_PY_CACHE_DIR", str(tmp_path / "cache"))
    xml = WEIGHTS / "hpe-0001" / "human-pose-estimation-0001.xml"
    result = invoke("weights", "import", xml)
    assert result.exit_code == 0, result.output
    target = result.stdout.strip()
    assert target.startswith(str(tmp_path / "cache")) and target.endswith(".safetensors")
    (tmp_path / "lonely.xml").write_text("<net/>")
    lonely = invoke("weights", "import", tmp_path / "lonely.xml")
    assert lonely.exit_code == 1 and "lonely.bin" in error_of(lonely)


def test_list_says_which_files_are_needed_and_which_are_optional(invoke):
    """Failure: the default model was 'ready' yet a line said 'hpe0001_float32_ir_names.pth missing, no download URL
    (obtain by hand)', which reads as something broken; it is an alternative to the shipped IR."""
    out = invoke("weights", "list", "lightweight", "cmu-coco").stdout
    rows = {(ln.split()[0], ln.split()[-1] if "not found" not in ln else "missing", ln.split()[1]): ln
            for ln in out.splitlines() if ln.startswith("  ") and ln.split()[0] in ("needed", "optional", "one")}
    assert ("needed", "(shipped)", "human-pose-estimation-0001.xml") in rows
    assert ("needed", "(shipped)", "human-pose-estimation-0001.bin") in rows
    assert ("optional", "missing", "hpe0001_float32_ir_names.pth") in rows
    assert "source: hpe0001_float32_ir_names.pth <- no download URL (optional; obtain by hand)" in out
    assert "one of    body_pose_model.pth" in out and "one of    pose_iter_440000.caffemodel" in out
