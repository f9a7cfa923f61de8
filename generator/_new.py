"""`goldpath new`: a project from the template, committed, with the next steps printed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from ._errors import GoldpathError
from ._location import locate
from ._options import load_questions
from ._process import git_commit_all
from ._questions import check_answers, check_applicable, load_preset, parse_data
from ._template import render


def new_project(
    destination: Path,
    *,
    data: list[str],
    preset: Path | None,
    defaults: bool,
    template: str | None,
    vcs_ref: str | None,
) -> Path:
    if destination.exists() and any(destination.iterdir()):
        raise GoldpathError(
            f"{destination} already exists and is not empty: choose a new folder "
            "(to bring an existing project up to date, use copier update or goldpath fleet update)"
        )
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
    git_commit_all(destination, "Start from goldpath")
    recorded = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    print(f"Created {destination} from goldpath {recorded.get('_commit', '(untagged)')}.")
    print("Next steps:")
    print(f"  cd {destination}")
    print("  make setup && make test      # green out of the box")
    kind = recorded.get("project_kind", "tabular")
    if kind == "llm":
        print("  make eval                    # evaluation gate, register the prompt")
        print('  make promote APPROVER=<you> REASON="first prompt"')
        print("  make serve                   # then POST examples/request.json to /extract")
    elif kind == "tabular":
        print("  make train                   # train and register a model")
        print('  make promote APPROVER=<you> REASON="first model"')
        if recorded.get("serving") != "none":
            print("  make serve                   # then POST examples/request.json to /predict")
    else:
        raise GoldpathError(f"project_kind {kind!r} has no next steps in goldpath new")
    return destination
