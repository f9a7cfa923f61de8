"""`goldpath build-libraries`: the platform's libraries as a release publishes them, at the
tag's version, built from a copy (the checkout never changes), installable on their own."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator._cli import main
from generator._libraries import TAG, release_version
from generator._process import uv
from generator._template import REPO_ROOT

from .browser import serve_directory
from .conftest import Render


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    assert main(["build-libraries", "--tag", "v2.7.1", "--out", str(out)]) == 0
    return out


def test_both_libraries_are_built_at_the_tag_s_version(built: Path) -> None:
    names = sorted(path.name for path in built.iterdir())
    assert names == [
        "goldpath_infra-2.7.1-py3-none-any.whl", "goldpath_infra-2.7.1.tar.gz",
        "goldpath_runtime-2.7.1-py3-none-any.whl", "goldpath_runtime-2.7.1.tar.gz",
    ]  # fmt: skip
    runtime = zipfile.ZipFile(built / "goldpath_runtime-2.7.1-py3-none-any.whl").namelist()
    assert "goldpath_runtime/llm/providers.py" in runtime
    assert "goldpath_runtime/lifecycle/core.py" in runtime
    assert not any("tests/" in name for name in runtime)  # the platform's tests stay here


def test_the_checkout_is_not_changed(built: Path) -> None:
    for folder in ("runtime", "infra"):
        assert 'version = "2.7.1"' not in (REPO_ROOT / folder / "pyproject.toml").read_text()
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "runtime", "infra"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "pyproject.toml" not in changed


def test_the_runtime_wheel_installs_and_reports_its_version(built: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([uv(), "venv", "-q", str(venv)], check=True)
    wheel = built / "goldpath_runtime-2.7.1-py3-none-any.whl"
    python = venv / "bin" / "python"
    subprocess.run(
        [uv(), "pip", "install", "-q", "--no-deps", "--python", str(python), str(wheel)],
        check=True,
    )
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m, goldpath_runtime.errors; "
         "print(m.version('goldpath-runtime'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert version == "2.7.1"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40).filter(lambda tag: TAG.fullmatch(tag) is None))
def test_anything_but_a_release_tag_is_one_line_and_builds_nothing(tag: str) -> None:
    out = Path("/nonexistent/goldpath-dist")
    code = main(["build-libraries", f"--tag={tag}", "--out", str(out)])
    assert code == 1
    assert not out.exists()


def test_a_refused_tag_names_the_field_and_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build-libraries", "--tag", "1.4.0", "--out", "/nonexistent"]) == 1
    error = capsys.readouterr().err.strip()
    assert error == "goldpath: error: --tag '1.4.0' is not a release tag: use vX.Y.Z (e.g. v1.4.0)"


def test_leading_zeros_are_read_as_the_version_they_mean() -> None:
    assert release_version("v01.02.003") == "1.2.3"


@pytest.fixture
def package_index(built: Path, tmp_path: Path) -> Iterator[str]:
    """The organisation's package index, as a PEP 503 simple index served over HTTP, holding
    what the release built."""
    root = tmp_path / "index"
    for wheel in built.glob("*.whl"):
        project = wheel.name.split("-")[0].replace("_", "-")
        folder = root / "simple" / project
        folder.mkdir(parents=True)
        shutil.copy(wheel, folder / wheel.name)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        link = f'<a href="{wheel.name}#sha256={digest}">{wheel.name}</a>'
        (folder / "index.html").write_text(f"<!DOCTYPE html><html><body>{link}</body></html>")
    with serve_directory(root) as url:
        yield f"{url}/simple/"


@pytest.mark.slow
def test_a_project_follows_its_readme_to_take_the_runtime_from_the_index(
    rendered: Render, package_index: str
) -> None:
    """The generated README's steps, as written, switch the project from the git tag to
    the index; uv then locks the release the index serves."""
    project = rendered(project_kind="llm")
    copy = project.parent / "from-index"
    shutil.copytree(project, copy)
    readme = (copy / "README.md").read_text()
    section = readme[readme.index("### The platform's runtime") :]
    blocks = re.findall(r"```toml\n(.*?)```", section, re.S)
    assert len(blocks) >= 2, "the README shows the source it pins and the one to use"
    index_source = blocks[1].replace("https://pkgs.example.com/simple", package_index)
    pin = re.search(r'`"(goldpath-runtime\[[a-z,]+\])==<release>"`', section)
    assert pin is not None, "the README says how to pin the release"
    manifest = copy / "pyproject.toml"
    text = manifest.read_text()
    # "replace that source": the [tool.uv.sources] table, comments and all.
    table = re.search(r"^\[tool\.uv\.sources\]\n(?:.*\n)*?(?=\n\[)", text, re.M)
    assert table is not None
    assert "git = " in table.group(0)
    text = text.replace(table.group(0), index_source)
    text = text.replace(f'"{pin.group(1)}",', f'"{pin.group(1)}==2.7.1",')
    assert "==2.7.1" in text, "the README's extras are the ones the project depends on"
    manifest.write_text(text)
    env = {k: v for k, v in os.environ.items()
           if k not in {"UV_FIND_LINKS", "UV_NO_SOURCES_PACKAGE", "VIRTUAL_ENV"}}  # fmt: skip
    locked = subprocess.run([uv(), "lock"], cwd=copy, env=env, capture_output=True,
                            text=True, timeout=600, check=False)  # fmt: skip
    assert locked.returncode == 0, locked.stderr[-2000:]
    lock = tomllib.loads((copy / "uv.lock").read_text())
    (runtime,) = [p for p in lock["package"] if p["name"] == "goldpath-runtime"]
    assert runtime["version"] == "2.7.1"
    assert runtime["source"] == {"registry": package_index}
