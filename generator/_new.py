"""`goldpath new`: a project from the template, committed, with the next steps printed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from ._errors import GoldpathError
from ._location import locate
from ._options import defaults, load_questions
from ._process import execute, git_commit_all, project_env
from ._questions import check_answers, check_applicable, load_preset, parse_data
from ._runtime import local_runtime_env
from ._template import render
from ._vcs import check_not_nested


def new_project(
    destination: Path,
    *,
    data: list[str],
    preset: Path | None,
    defaults: bool,
    template: str | None,
    vcs_ref: str | None,
) -> Path:
    if destination.exists() and not destination.is_dir():
        raise GoldpathError(f"{destination} is a file: choose a new folder for the project")
    if destination.exists() and any(destination.iterdir()):
        raise GoldpathError(
            f"{destination} already exists and is not empty: choose a new folder "
            "(to bring an existing project up to date, use copier update or goldpath fleet update)"
        )
    check_not_nested(destination)
    answers: dict[str, Any] = load_preset(preset) if preset else {}
    answers.update(parse_data(data))
    location = locate(template)
    if location.local is not None:
        answers = check_answers(answers, load_questions(location.local))
        check_applicable(answers, location.local)
    ref = vcs_ref or location.default_ref
    # Without a terminal (CI, a script, `< /dev/null`) nobody can answer a prompt: the
    # answers are the defaults, the preset and --data.
    interactive = sys.stdin is not None and sys.stdin.isatty()
    render(
        destination,
        template=location.source,
        data=answers,
        vcs_ref=ref,
        defaults=defaults or not interactive,
    )
    _lock(destination, location.local)
    git_commit_all(destination, "Start from goldpath")
    recorded = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    print(f"Created {destination} from goldpath {recorded.get('_commit', '(untagged)')}.")
    if location.local is None:
        print(f"Next steps: cd {destination}, then the Quick start of its README.md")
    else:
        print(next_steps(location.local, recorded, destination))
    return destination


def _lock(destination: Path, template: Path | None) -> None:
    """uv.lock in the first commit: `make test` then leaves the tree clean and `copier
    update` (which refuses a dirty tree) works straight away."""
    found = shutil.which("uv")
    # A private goldpath repository must not stop the lock at a password prompt.
    env = {**project_env(), "GIT_TERMINAL_PROMPT": "0"}
    result = None if found is None else execute([found, "lock", "--quiet"], destination, env=env)
    if result is not None and result.returncode != 0 and template is not None:
        runtime = template / "runtime"
        if (runtime / "pyproject.toml").is_file():
            # goldpath-runtime is pinned at a release of the goldpath repository that is
            # not reachable from here (offline, or this checkout's change is not pushed):
            # a trial from a checkout locks against that checkout's runtime instead.
            retry = execute([found or "uv", "lock", "--quiet"], destination,
                            env={**env, **local_runtime_env(runtime)})  # fmt: skip
            if retry.returncode == 0:
                print(
                    f"goldpath: goldpath-runtime locked from {runtime} ("
                    f"{_cause(result)} at the pinned release): run `uv lock` in "
                    f"{destination} once that release is pushed",
                    file=sys.stderr,
                )
                return
    if result is None or result.returncode != 0:
        why = "uv is not installed" if result is None else _cause(result)
        print(
            f"goldpath: uv.lock not created ({why}): run `make setup` in "
            f"{destination} and commit uv.lock",
            file=sys.stderr,
        )


def _cause(result: subprocess.CompletedProcess[str]) -> str:
    # uv ends with the root cause ("  cause: Connection refused (os error 111)").
    why = result.stderr.strip() or "failed"
    return why.splitlines()[-1].strip().removeprefix("cause:").strip()


def next_steps(template: Path, answers: dict[str, Any], destination: Path) -> str:
    """copier's closing message, rendered for a project goldpath has already committed:
    one text for both tools."""
    import jinja2

    message = yaml.safe_load((template / "copier.yml").read_text(encoding="utf-8"))
    context = {**defaults(template, answers), **answers, "committed": True,
               "_copier_conf": {"dst_path": str(destination)}}  # fmt: skip
    env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)  # noqa: S701 - a terminal message
    return env.from_string(message["_message_after_copy"]).render(**context).strip("\n")
