"""``openpose-py serve`` argument handling (the running server is tested in tests/serve/)."""

from __future__ import annotations

import importlib.util
import socket

import pytest

from openpose_py.cli import main


def test_serve_without_the_extra_says_what_to_install(monkeypatch, capsys) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else real(name, *a))
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", "0"])
    assert exited.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err == "Error: `serve` needs the serve extra (fastapi missing): pip install 'openpose-py[serve]'"


def test_serve_on_a_busy_port_is_a_one_line_error(capsys) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit) as exited:
            main(["serve", "--port", str(port)])
    assert exited.value.code == 1
    assert capsys.readouterr().err.strip() == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_serve_is_listed_with_its_options(invoke) -> None:
    result = invoke("serve", "--help")
    assert result.exit_code == 0
    for flag in ("--host", "--port", "--model", "--backend", "--device", "--token", "--max-batch", "--max-stream-fps"):
        assert flag in result.output
    assert "serve" in invoke("--help").output
