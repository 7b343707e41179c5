"""Shared by the script tests: load a file of scripts/ as a module (the scripts are not a package)."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from ..conftest import REPO_ROOT


def load_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` as a module, executed once per call."""
    spec = importlib.util.spec_from_file_location(f"openpose_script_{name}", REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
