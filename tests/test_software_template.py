"""goldpath as a Backstage software template: backstage/template.yaml is what the options
model gives today (generated, never edited), Backstage's scaffolder accepts it, and its
form asks every question copier.yml asks, with the same choices."""

from __future__ import annotations

from typing import Any

import yaml

from generator._options import load_questions
from generator._scaffolder import OUTPUT, render_template
from generator._template import REPO_ROOT

from .backstage_catalog import check_template


def committed() -> dict[str, Any]:
    text = (REPO_ROOT / OUTPUT).read_text(encoding="utf-8")
    assert text == render_template(REPO_ROOT), "run `uv run goldpath backstage-template`"
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def test_the_committed_template_is_the_generated_one_and_backstage_accepts_it() -> None:
    assert check_template(committed()) == []


def test_the_form_asks_every_question_with_copier_s_choices() -> None:
    fields = committed()["spec"]["parameters"][0]["properties"]
    asked = {n: q for n, q in load_questions(REPO_ROOT).items() if not q.computed}
    assert set(fields) == set(asked)
    for name, question in asked.items():
        if question.boolean:
            assert fields[name]["type"] == "boolean", name
        elif question.choices:
            assert fields[name]["enum"] == [str(c) for c in question.choices], name


def test_every_answer_reaches_goldpath_and_the_repository_is_registered() -> None:
    steps = {step["id"]: step for step in committed()["spec"]["steps"]}
    answers = steps["render"]["input"]["answers"]
    assert set(answers) == set(committed()["spec"]["parameters"][0]["properties"])
    assert steps["register"]["input"]["catalogInfoPath"] == "/catalog-info.yaml"
    assert {s["action"] for s in steps.values()} >= {"publish:github", "publish:azure",
                                                    "publish:gitlab", "catalog:register"}  # fmt: skip
