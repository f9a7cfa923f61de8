"""A rollout at fleet scale: `fleet status` and `fleet update --open-pr` over a simulated
fleet (local bare repositories, the forge's pull-request API served on this machine by
tests/fake_pulls.py with its contract checks off), run as 1, 2 and 4 concurrent shards,
against the named baseline of a bare `copier update` of each repository, measured in the
same run.

    uv run python benchmarks/fleet_rollout.py [--repos 500]

The template is the small two-release template of the fleet tests (a migration and a
task each run, as in the platform's); every repository is the same project at v1.0.0,
copied once per mode, so each mode updates identical repositories. Shards run as separate
processes at once, as CI runners would (here they share this machine's cores).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import copier
import yaml

from generator._template import render
from tests.fake_pulls import TOKEN, FakePullForge, serve
from tests.fleet_template import make_small_template
from tests.git_helpers import commit_all, git

SHARDS = (1, 2, 4)


def fleet_of(root: Path, forge: FakePullForge, project: Path, mode: str, count: int) -> Path:
    entries = []
    for index in range(count):
        bare = root / "forge" / mode / f"m{index}.git"
        subprocess.run(["git", "clone", "--quiet", "--bare", str(project), str(bare)], check=True)
        slug = f"bank/{mode}-m{index}"
        forge.add("github", slug, bare)
        entries.append({"repo": f"file://{bare}", "forge_repo": slug})
    path = root / f"fleet-{mode}.yml"
    forge_settings = {"kind": "github", "api": forge.github_api}
    path.write_text(yaml.safe_dump({"template": str(root / "template"), "repos": entries,
                                    "forge": forge_settings}))  # fmt: skip
    return path


def goldpath(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "generator", *args],
                            env={**os.environ, "GITHUB_TOKEN": TOKEN},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repos", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="goldpath-rollout-") as scratch, serve() as forge:
        forge.checked = False
        root = Path(scratch)
        template = make_small_template(root / "template")
        project = render(root / "project", template=str(template), vcs_ref="v1.0.0")
        git(project, "init", "--quiet", "-b", "main")
        commit_all(project, "generated at v1.0.0")

        checkouts = []
        for index in range(args.repos):
            copy = root / "baseline" / f"m{index}"
            shutil.copytree(project, copy)
            checkouts.append(copy)
        started = time.perf_counter()
        for checkout in checkouts:
            copier.run_update(str(checkout), vcs_ref="v2.0.0", defaults=True, overwrite=True,
                              skip_answered=True, unsafe=True, quiet=True)  # fmt: skip
        baseline = time.perf_counter() - started

        fleets = {n: fleet_of(root, forge, project, f"shards{n}", args.repos) for n in SHARDS}
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "generator", "fleet", "status", "--json",
                        "--fleet", str(fleets[1])], check=False, capture_output=True)  # fmt: skip
        status = time.perf_counter() - started

        walls: dict[int, float] = {}
        for shards, fleet in fleets.items():
            reports = [root / f"report-{shards}-{i}.json" for i in range(1, shards + 1)]
            started = time.perf_counter()
            runs = [goldpath("fleet", "update", "--fleet", str(fleet), "--shard", f"{i}/{shards}",
                             "--open-pr", "--report-json", str(report))
                    for i, report in enumerate(reports, 1)]  # fmt: skip
            for run in runs:
                run.wait()
            walls[shards] = time.perf_counter() - started
            results = [r for report in reports for r in json.loads(report.read_text())["results"]]
            assert len(results) == args.repos, (shards, len(results))
            assert all(r["status"] == "updated" for r in results), {r["status"] for r in results}
            opened = [len(forge.open_pulls("github", f"bank/shards{shards}-m{i}"))
                      for i in range(args.repos)]  # fmt: skip
            assert opened == [1] * args.repos, "exactly one pull request per repository"

    per_bare, per_fleet = baseline / args.repos, walls[1] / args.repos
    print(f"repositories:                              {args.repos}")
    print(f"bare copier update (baseline), total:      {baseline:8.1f} s  ({per_bare:.3f} s each)")
    per_status = status / args.repos
    print(f"fleet status, total:                       {status:8.1f} s  ({per_status:.3f} s each)")
    for shards, wall in walls.items():
        print(f"fleet update --open-pr, {shards} shard(s), wall: {wall:8.1f} s")
    print(
        f"per repository, 1 shard vs bare copier update: {per_fleet / per_bare:.2f}x "
        f"({per_fleet:.3f} s vs {per_bare:.3f} s; clone, update, commit, push, pull request)"
    )
    for shards in SHARDS[1:]:
        print(f"{shards} shards vs 1 shard, wall:                  {walls[shards] / walls[1]:.2f}x")
    print(f"cores on this machine: {os.cpu_count()}")


if __name__ == "__main__":
    main()
