"""The `goldpath:new` scaffolder action (backstage/scaffolder-backend-module-goldpath), the
step backstage/template.yaml renders with: its own jest tests, run with Backstage's
published action-context mock (@backstage/plugin-scaffolder-node-test-utils) against this
checkout's goldpath. They render real projects, feed hostile answers and check the
portal's credentials stay out of goldpath's environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator._process import project_env
from generator._template import REPO_ROOT

from .backstage_catalog import npm_installed

MODULE = REPO_ROOT / "backstage" / "scaffolder-backend-module-goldpath"
TEST_UTILS = "0.3.14"
JEST = "29.7.0"

# Not in the quick subset: installs Backstage's backend test kit from npm once per machine.
pytestmark = pytest.mark.slow


def test_the_module_s_jest_tests_pass(tmp_path: Path) -> None:
    kit = npm_installed(
        f"backstage-scaffolder-node-test-utils-{TEST_UTILS}-jest-{JEST}",
        [f"@backstage/plugin-scaffolder-node-test-utils@{TEST_UTILS}", f"jest@{JEST}"],
        "jest",
    )
    report = tmp_path / "jest.json"
    env = {**project_env(), "GOLDPATH_COMMAND": str(Path(sys.executable).with_name("goldpath"))}
    done = subprocess.run(
        [str(kit / "node_modules" / ".bin" / "jest"), "--rootDir", str(MODULE),
         "--modulePaths", str(kit / "node_modules"), "--ci", "--json",
         "--outputFile", str(report)],
        cwd=kit, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(report.read_text())
    passed = {t["title"] for s in results["testResults"] for t in s["assertionResults"]
              if t["status"] == "passed"}  # fmt: skip
    assert len(passed) == results["numTotalTests"] >= 6, passed


def test_the_template_s_render_step_is_this_action() -> None:
    template = yaml.safe_load((REPO_ROOT / "backstage" / "template.yaml").read_text())
    render = next(step for step in template["spec"]["steps"] if step["id"] == "render")
    assert render["action"] == "goldpath:new"
    assert set(render["input"]) == {"answers"}
    source = (MODULE / "src" / "action.js").read_text()
    assert "id: 'goldpath:new'" in source
    assert "answers:" in source
