"""The environments an image holds, built from uv.lock as the Dockerfile builds them: the
serving-only group (the slim image) and the full one without dev tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def installed_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def build_environments(project: Path, work: Path) -> dict[str, Path]:
    """`serving` (with the project installed, as the slim image has it) and `full`."""
    uv = shutil.which("uv") or sys.exit("uv is not on PATH: pip install uv")
    built = {}
    for name, selection in (("serving", ["--only-group", "serving"]), ("full", ["--no-dev"])):
        target = work / name
        # Compiled bytecode, as the Dockerfile builds it (UV_COMPILE_BYTECODE=1).
        env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(target), "UV_COMPILE_BYTECODE": "1"}
        sync = [uv, "sync", "--locked", "--no-install-project", *selection]
        subprocess.run(sync, cwd=project, env=env, check=True, capture_output=True)
        built[name] = target
    install = [uv, "pip", "install", "--python", str(built["serving"] / "bin" / "python"),
               "--no-deps", "--compile-bytecode", str(project)]  # fmt: skip
    subprocess.run(install, cwd=project, check=True, capture_output=True)
    return built
