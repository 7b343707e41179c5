"""``openpose-py weights``: listing with sha256 status, verify, fetch (offline) and import into the cache."""

from __future__ import annotations

from openpose_py.errors import ChecksumError, WeightsNotFoundError

from .conftest import WEIGHTS, error_of, needs_weights


@needs_weights
def test_list_shows_entries_locations_and_sha256_status(invoke):
    result = invoke("weights", "list")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"weights dir: {WEIGHTS}" in out
    line = next(ln for ln in out.splitlines() if "hpe0001_float32_ir_names.pth" in ln)
    assert "sha256 ok" in line and str(WEIGHTS / "hpe-0001" / "hpe0001_float32_ir_names.pth") in line
    assert "lightweight (aliases: hpe-0001, lightweight-coco18)" in out
    assert "cmu-body25" in out and "missing" in out


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
    assert found.exit_code == 0 and found.stdout.strip().startswith(str(WEIGHTS))
    missing = invoke("weights", "fetch", "cmu-body25")
    assert missing.exit_code == 1 and isinstance(missing.exception, WeightsNotFoundError)
    assert "pose_iter_584000.caffemodel" in error_of(missing)
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
