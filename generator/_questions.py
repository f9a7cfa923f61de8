"""Answers given on the command line or in a preset, checked against the options model
before copier runs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._errors import GoldpathError
from ._options import Question, applies, defaults, load_questions
from ._yaml import read_yaml


def parse_data(pairs: list[str]) -> dict[str, str]:
    data: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise GoldpathError(f"--data {pair!r} is not KEY=VALUE (e.g. --data serving=flask)")
        data[key.strip()] = value
    return data


def check_answers(answers: Mapping[str, Any], questions: Mapping[str, Question]) -> dict[str, Any]:
    """Unknown keys and values outside a question's choices fail with one clear line;
    booleans given as text become booleans."""
    checked: dict[str, Any] = {}
    for key, value in answers.items():
        question = questions.get(key)
        if question is None or question.computed:
            known = ", ".join(sorted(n for n, q in questions.items() if not q.computed))
            raise GoldpathError(f"unknown answer {key!r}: the template asks {known}")
        if value is None:
            raise GoldpathError(
                f"answer {key} is empty (null): give it a value, or leave it out for the default"
            )
        if question.boolean and isinstance(value, str):
            if value.lower() not in {"true", "false", "yes", "no", "1", "0"}:
                raise GoldpathError(f"answer {key}={value!r} is not a boolean: use true or false")
            value = value.lower() in {"true", "yes", "1"}
        choices = [str(c) for c in question.choices]
        if choices and str(value) not in choices:
            raise GoldpathError(f"answer {key}={value!r} is not one of {', '.join(choices)}")
        checked[key] = value
    return checked


def check_applicable(answers: Mapping[str, Any], template: Path) -> None:
    """An answer to a question the others make moot (its `when:` is false) is refused,
    rather than silently dropped by copier: e.g. `serving` with `project_kind=llm`."""
    resolved = defaults(template, answers)
    for name, question in load_questions(template).items():
        if name in answers and question.when is not None and not applies(question, resolved):
            condition = str(question.when).strip().removeprefix("{{").removesuffix("}}").strip()
            raise GoldpathError(
                f"answer {name}={answers[name]!r} does not apply to these answers "
                f"(asked only when {condition}): remove it"
            )


def load_preset(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise GoldpathError(f"preset {path} does not exist")
    preset = read_yaml(path, f"preset {path}", numbers_as_text=True)
    if not isinstance(preset, dict):
        raise GoldpathError(f"preset {path} must be a mapping of answers (question: value)")
    return preset
