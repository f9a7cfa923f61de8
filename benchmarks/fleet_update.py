"""Fleet update cost: `goldpath fleet update` over N generated repos, sequentially and with
--jobs 2, against the named baseline of a bare `copier update` of the same repos.

    uv run python benchmarks/fleet_update.py [--repos 20]

The template is this checkout, tagged v1.0.0 and v1.1.0 (one changed file) in a scratch
clone; every repo is generated at v1.0.0 and copied three times, one copy per mode, so
each mode updates identical repos. Tests are not run (the default): this measures the
update machinery, not the projects' test suites.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import copier

from generator._fleet import update_fleet, update_repo
from generator._platform import PlatformTemplate
from generator._template import REPO_ROOT, render

IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *IDENTITY, *args], cwd=repo, check=True, capture_output=True)


def make_template(root: Path) -> Path:
    template = root / "template"
    template.mkdir()
    shutil.copy(REPO_ROOT / "copier.yml", template)
    shutil.copytree(REPO_ROOT / "templates", template / "templates")
    git(template, "init", "-q", "-b", "main")
    git(template, "add", "-A")
    git(template, "commit", "-q", "-m", "v1.0.0")
    git(template, "tag", "v1.0.0")
    ignore = template / "templates" / "project" / ".gitignore"
    ignore.write_text(ignore.read_text() + "\n# Local notebooks\n*.ipynb_checkpoints/\n")
    git(template, "commit", "-q", "-am", "v1.1.0")
    git(template, "tag", "v1.1.0")
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repos", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="goldpath-bench-") as scratch:
        root = Path(scratch)
        template = make_template(root)
        modes = ("baseline", "sequential", "jobs2")
        repos: dict[str, list[Path]] = {mode: [] for mode in modes}
        for index in range(args.repos):
            project = render(
                root / "gen" / f"model{index}", template=str(template), vcs_ref="v1.0.0"
            )
            git(project, "init", "-q", "-b", "main")
            git(project, "add", "-A")
            git(project, "commit", "-q", "-m", "generated")
            for mode in modes:
                copy = root / mode / project.name
                shutil.copytree(project, copy)
                repos[mode].append(copy)

        baseline: list[float] = []
        for repo in repos["baseline"]:
            started = time.perf_counter()
            copier.run_update(str(repo), vcs_ref="v1.1.0", defaults=True, overwrite=True,
                              skip_answered=True, unsafe=True, quiet=True)  # fmt: skip
            baseline.append(time.perf_counter() - started)

        sequential: list[float] = []
        for repo in repos["sequential"]:
            started = time.perf_counter()
            result = update_repo(str(repo), platform=PlatformTemplate.of(str(template)))
            assert result.status == "updated", result
            sequential.append(time.perf_counter() - started)

        started = time.perf_counter()
        platform = PlatformTemplate.of(str(template))
        results = update_fleet([str(r) for r in repos["jobs2"]], platform=platform, jobs=2)
        parallel_total = time.perf_counter() - started
        assert all(r.status == "updated" for r in results), results

    print(f"{'repo':<10} {'copier update (s)':>18} {'fleet update (s)':>17} {'ratio':>7}")
    for index, (bare, fleet) in enumerate(zip(baseline, sequential, strict=True)):
        print(f"model{index:<5} {bare:>18.2f} {fleet:>17.2f} {fleet / bare:>6.2f}x")
    bare_total, sequential_total = sum(baseline), sum(sequential)
    print()
    print(f"bare copier update (baseline), total:   {bare_total:7.1f} s")
    print(f"fleet update sequential, total:         {sequential_total:7.1f} s")
    print(f"fleet update --jobs 2, total:           {parallel_total:7.1f} s")
    print(f"fleet sequential vs bare copier update: {sequential_total / bare_total:.2f}x")
    print(f"fleet --jobs 2 vs bare copier update:   {parallel_total / bare_total:.2f}x")
    print(f"--jobs 2 speed-up over sequential:      {sequential_total / parallel_total:.2f}x")


if __name__ == "__main__":
    main()
