"""The `goldpath` command line."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from ._errors import GoldpathError
from ._location import REF_HELP

if TYPE_CHECKING:
    from ._fleet import FleetEntry
    from ._platform import PlatformTemplate


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo
    from ._questions import parse_data

    run_demo(args.destination.resolve(), template=args.template, data=parse_data(args.data))
    return 0


def _new(args: argparse.Namespace) -> int:
    from ._new import new_project

    new_project(
        args.destination.resolve(),
        data=args.data,
        preset=args.preset,
        defaults=args.defaults,
        template=args.template,
        vcs_ref=args.vcs_ref,
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from ._check import run_check
    from ._location import locate

    template = locate(args.template).local
    if template is None:
        raise GoldpathError("--template: check needs a local checkout of the template (clone it)")
    return run_check(template, args.matrix, args.jobs, args.run_tests, args.report)


def _repos(args: argparse.Namespace) -> list[str]:
    from ._fleet import read_fleet_file, unique_repos

    repos = list(args.repos) + (read_fleet_file(args.fleet).repos if args.fleet else [])
    if not repos:
        raise GoldpathError("name at least one repo (a path or git URL) or --fleet FILE")
    return unique_repos(repos)


def _entries(args: argparse.Namespace) -> list[FleetEntry]:
    """The fleet file's entries (forge repository, projects) and the repos named on the
    command line, one per repository."""
    from ._fleet import FleetEntry, read_fleet_file, unique_repos
    from ._forge import forge_repo_of
    from ._vcs import is_remote

    listed = list(read_fleet_file(args.fleet).entries) if args.fleet else []
    named = {entry.repo: entry for entry in listed}
    for repo in args.repos:
        forge = forge_repo_of(repo, None, None, repo) if is_remote(repo) else None
        named.setdefault(repo, FleetEntry(repo, forge))
    repos = unique_repos(list(named))
    if not repos:
        raise GoldpathError("name at least one repo (a path or git URL) or --fleet FILE")
    return [named[repo] for repo in repos]


def _platform(args: argparse.Namespace) -> PlatformTemplate:
    """The one template a fleet command renders or compares with: --template (with its
    --template-alias spellings), else the fleet file's `template:`."""
    from ._fleet import read_fleet_file
    from ._platform import PlatformTemplate, no_template

    if args.template:
        return PlatformTemplate.of(args.template, args.template_alias, base=Path.cwd())
    if args.template_alias:
        raise GoldpathError("--template-alias needs --template (the platform's template)")
    declared = read_fleet_file(args.fleet).template if args.fleet else None
    if declared is None:
        raise no_template()
    return declared


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1 (one worker or more)")
    return value


def _stop_on_sigterm() -> None:
    """SIGTERM (a CI runner cancelling the job) stops a run as Ctrl-C does: cleanly."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _fleet_status(args: argparse.Namespace) -> int:
    from ._fleet import repo_status, to_json
    from ._report import table

    platform = _platform(args)
    statuses = [repo_status(repo, platform) for repo in _repos(args)]
    if args.json:
        print(to_json(statuses))
    else:
        rows = [
            [
                s.repo,
                s.current or "-",
                s.latest or "-",
                s.state,
                "dirty" if s.dirty else ("" if s.error else "clean"),
                s.pending or "",
                s.error or "",
            ]
            for s in statuses
        ]
        print(table(["repo", "version", "latest", "state", "worktree", "pending", "error"], rows))
    return 1 if any(s.error for s in statuses) else 0


def _inventory(args: argparse.Namespace) -> int:
    from ._catalog import render_catalog, with_inventory
    from ._inventory import inventory_row, render
    from ._published import Witness

    witness = Witness.load(args.witness) if args.witness else None
    verify = args.verify or witness is not None
    rows, catalogs = [], []
    for repo in _repos(args):
        found: list[dict[str, Any]] | None = [] if args.format == "backstage" else None
        row = inventory_row(repo, verify=verify, witness=witness, catalog=found)
        rows.append(row)
        if found is not None:
            facts = {"status": row.status, "champion": row.champion,
                     "validated": row.validated, "next-validation": row.next_validation,
                     "audit-verified": row.verified}  # fmt: skip
            with_inventory(found, row.model, facts)
            catalogs.append((repo, found, row.problem))
    print(render_catalog(catalogs) if args.format == "backstage" else render(rows, args.format))
    if witness is not None:
        witness.save()
    # Every repo is listed; one without a usable record makes the exit code say so.
    return 1 if any(r.problem for r in rows) else 0


def _backstage_template(args: argparse.Namespace) -> int:
    from ._scaffolder import OUTPUT, render_template
    from ._template import REPO_ROOT

    out = args.out or REPO_ROOT / OUTPUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_template(REPO_ROOT), encoding="utf-8")
    print(f"wrote {out}: register it in the portal as a catalog Location")
    return 0


def _build_libraries(args: argparse.Namespace) -> int:
    from ._libraries import build_libraries

    for artifact in build_libraries(args.tag, args.out):
        print(artifact)
    return 0


def _fleet_update(args: argparse.Namespace) -> int:
    from ._fleet import ATTENTION, UpdateResult, to_json, update_fleet
    from ._report import table

    _stop_on_sigterm()

    def progress(done: int, total: int, result: UpdateResult) -> None:
        # On stderr, as each repo finishes: a long rollout is never silent.
        print(f"[{done}/{total}] {result.repo}: {result.status}", file=sys.stderr, flush=True)

    platform = _platform(args)
    entries = _entries(args)
    if args.shard:
        from ._fleet import repo_key
        from ._shards import parse_shard, shard_of

        entries = shard_of(entries, [repo_key(e.repo) for e in entries], parse_shard(args.shard))
    results = update_fleet(
        entries,
        platform=platform,
        jobs=args.jobs,
        to=args.to,
        branch=args.branch,
        conflict=args.conflict,
        run_tests=args.run_tests,
        push=args.push,
        open_pr=args.open_pr,
        progress=progress,
    )
    if args.report_json:
        from ._fleet_report import write_report

        write_report(args.report_json, results, args.shard or "1/1", platform.source)
    if args.json:
        print(to_json(results))
    else:
        rows = [
            [
                r.repo,
                r.from_version or "-",
                r.to_version or "-",
                r.status,
                r.branch or "",
                r.detail.splitlines()[0] if r.detail else "",
            ]
            for r in results
        ]
        print(table(["repo", "from", "to", "status", "branch", "detail"], rows))
        counts = {status: sum(r.status == status for r in results) for status in
                  ("updated", "current", "conflicts", "tests-failed", "lock-failed",
                   "pr-failed", "foreign-template", "error", "interrupted")}  # fmt: skip
        print(", ".join(f"{n} {status}" for status, n in counts.items() if n))
    if any(r.status == "interrupted" for r in results):
        print(
            "goldpath: interrupted; rerun to finish the repos marked interrupted", file=sys.stderr
        )
        return 130
    return 1 if any(r.status in ATTENTION for r in results) else 0


def _fleet_plan(args: argparse.Namespace) -> int:
    import json

    from ._fleet import repo_key
    from ._shards import matrix, plan

    entries = _entries(args)
    names = [e.forge.slug.split("/")[1] if e.forge and e.forge.kind == "github" else None
             for e in entries]  # fmt: skip
    written = plan([repo_key(e.repo) for e in entries], args.shards,
                   names if args.ci == "github" and all(names) else None)  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(written, indent=1) + "\n", encoding="utf-8")
    print(matrix(written, args.ci))
    return 0


def _fleet_report(args: argparse.Namespace) -> int:
    from ._fleet_report import markdown, merge, page

    rows = merge(args.reports)
    summary = markdown(rows)
    if args.markdown:
        args.markdown.write_text(summary, encoding="utf-8")
    else:
        print(summary, end="")
    if args.html:
        args.html.write_text(page(rows), encoding="utf-8")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="goldpath", description="The golden path for ML engineering."
    )
    parser.add_argument("--version", action="version", version=f"goldpath {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="scaffold a project with default answers and show it working end to end",
    )
    demo.add_argument("destination", nargs="?", type=Path, default=Path("demo"))
    demo.add_argument("--template", help="template path or git URL (default: this checkout)")
    demo.add_argument(
        "--data", action="append", default=[], metavar="KEY=VALUE",
        help="an answer other than the default (e.g. project_kind=llm)",
    )  # fmt: skip
    demo.set_defaults(handler=_demo)

    new = commands.add_parser(
        "new",
        help="create a project from the template, locked and committed",
        description="Create a project from the template: every answer is checked against "
        "copier.yml first, then the project is rendered, locked (uv.lock) and committed. "
        "Without a terminal (CI, a script) nothing is asked: the answers are the defaults, "
        "the preset and --data.",
    )
    new.add_argument(
        "destination", type=Path, help="a new (or empty) folder; its name is the default "
        "project_name",
    )  # fmt: skip
    new.add_argument(
        "--data", action="append", default=[], metavar="KEY=VALUE",
        help="an answer (repeat for several), e.g. --data cloud=azure --data serving=flask",
    )  # fmt: skip
    new.add_argument("--preset", type=Path, help="YAML answers file (see presets/)")
    new.add_argument(
        "--defaults", action="store_true",
        help="ask nothing: the default of every question not answered by --preset or --data",
    )  # fmt: skip
    new.add_argument("--template", help="template path or git URL (default: this checkout)")
    new.add_argument("--vcs-ref", help=REF_HELP)
    new.set_defaults(handler=_new)

    check = commands.add_parser(
        "check", help="render option combinations and run every validator on each"
    )
    check.add_argument(
        "--matrix", choices=["full", "pairwise", "default"], default="pairwise",
        help="which combinations: every one of the options (full), a cover of every pair of "
        "values starting with the defaults (pairwise), or the defaults alone (default)",
    )  # fmt: skip
    check.add_argument("--jobs", type=_positive, default=2, help="combinations checked in parallel")
    check.add_argument("--run-tests", action="store_true", help="also run each make test")
    check.add_argument("--report", type=Path, help="write a JSON report here")
    check.add_argument("--template", help="template checkout (default: this one)")
    check.set_defaults(handler=_check)

    fleet = commands.add_parser("fleet", help="status and updates across project repos")
    fleet_commands = fleet.add_subparsers(dest="fleet_command", required=True, metavar="COMMAND")
    status = fleet_commands.add_parser("status", help="template version of each repo")
    update = fleet_commands.add_parser("update", help="copier update each repo on a branch")
    plan = fleet_commands.add_parser(
        "plan", help="split the fleet into shards for CI runners; prints the CI matrix"
    )
    plan.add_argument("repos", nargs="*", metavar="REPO", help="path or git URL")
    plan.add_argument("--fleet", type=Path, help="YAML file with `repos:`")
    plan.add_argument("--shards", type=_positive, required=True, help="how many runners")
    plan.add_argument("--out", type=Path, help="also write each shard's repositories here")
    plan.add_argument("--ci", choices=["github", "azure-devops"], default="github",
                      help="the matrix's shape (default: GitHub Actions' `include`)")  # fmt: skip
    plan.set_defaults(handler=_fleet_plan)
    report = fleet_commands.add_parser(
        "report", help="merge shard reports into one Markdown summary and one HTML page"
    )
    report.add_argument("reports", nargs="+", type=Path, metavar="FILE",
                        help="what `fleet update --report-json` wrote, one per shard")  # fmt: skip
    report.add_argument("--markdown", type=Path, help="write the summary here (default: stdout)")
    report.add_argument("--html", type=Path, help="also write the static page here")
    report.set_defaults(handler=_fleet_report)
    for sub in (status, update):
        sub.add_argument("repos", nargs="*", metavar="REPO", help="path or git URL")
        sub.add_argument("--fleet", type=Path, help="YAML file with `repos:`")
        sub.add_argument(
            "--template",
            help="the platform's template, path or git URL: the only one rendered "
            "(default: the fleet file's `template:`)",
        )
        sub.add_argument(
            "--template-alias", action="append", default=[], metavar="URL",
            help="another spelling of it that repos' answers may carry (e.g. a mirror)",
        )  # fmt: skip
        sub.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=_fleet_status)
    update.add_argument("--to", help="release tag (default: the latest)")
    update.add_argument("--branch", help="branch name (default: goldpath/update-<tag>)")
    update.add_argument("--jobs", type=_positive, default=1, help="repos updated in parallel")
    update.add_argument("--shard", metavar="I/N", help="only the I-th of N shards (fleet plan)")
    update.add_argument("--report-json", type=Path, metavar="FILE",
                        help="write this run's results for `fleet report`")  # fmt: skip
    update.add_argument("--conflict", choices=["inline", "rej"], default="inline")
    update.add_argument("--push", action="store_true", help="push the branch to origin")
    update.add_argument(
        "--open-pr", action="store_true",
        help="push the branch and open (or update) its pull request on GitHub or Azure "
        "DevOps, with the job's token (GITHUB_TOKEN, SYSTEM_ACCESSTOKEN)",
    )  # fmt: skip
    update.add_argument(
        "--run-tests", action="store_true",
        help="also run each repo's make test on its update: that is the team's code, run "
        "as you (see the README); by default each repo's own CI tests the branch",
    )  # fmt: skip
    # Not running the team's code is the default now; the old flag still parses.
    update.add_argument("--skip-tests", action="store_false", dest="run_tests",
                        help=argparse.SUPPRESS)  # fmt: skip
    update.set_defaults(handler=_fleet_update)

    inventory = commands.add_parser(
        "inventory", help="every model of a fleet with its governance record (owner, risk tier)"
    )
    inventory.add_argument("repos", nargs="*", metavar="REPO", help="path or git URL")
    inventory.add_argument("--fleet", type=Path, help="YAML file with `repos:` (as fleet uses)")
    inventory.add_argument(
        "--format",
        choices=["table", "json", "csv", "backstage"],
        default="table",
        help="backstage: every project's catalog entities in one file a catalog ingests",
    )
    inventory.add_argument(
        "--verify", action="store_true",
        help="also check each governance-record branch only grew; a champion no published "
        "audit chain backs is a problem",
    )  # fmt: skip
    inventory.add_argument(
        "--witness", type=Path, metavar="FILE",
        help="JSON file of the chains seen on earlier runs (implies --verify): a chain that "
        "no longer holds them was rewritten",
    )  # fmt: skip
    inventory.set_defaults(handler=_inventory)

    libraries = commands.add_parser(
        "build-libraries",
        help="build goldpath-runtime and goldpath-infra at a release's version (release CI)",
        description="Build the platform's libraries (wheel and sdist) as the release tag's "
        "version, for the organisation's package index; the checkout is not changed.",
    )
    libraries.add_argument("--tag", required=True, help="the release tag, vX.Y.Z")
    libraries.add_argument("--out", type=Path, default=Path("dist"), help="folder (default: dist)")
    libraries.set_defaults(handler=_build_libraries)

    scaffolder = commands.add_parser(
        "backstage-template",
        help="write backstage/template.yaml, goldpath as a Backstage software template",
    )
    scaffolder.add_argument("--out", type=Path, help="file (default: backstage/template.yaml here)")
    scaffolder.set_defaults(handler=_backstage_template)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except GoldpathError as exc:
        print(f"goldpath: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("goldpath: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
