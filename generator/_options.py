"""The template's option space, read from copier.yml once: every question with its type,
choices, default, `when` and validator. `goldpath new` checks answers with it, `goldpath
check` builds its matrices from it, and this repository's tests parametrise over it.

Computed values (`when: false`) are part of the model but are not options: nobody answers
them, and they never enter a matrix.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ._errors import GoldpathError
from ._yaml import read_yaml


@dataclass(frozen=True)
class Question:
    name: str
    type: str
    choices: tuple[Any, ...]
    default: Any
    when: Any
    validator: str | None
    help: str = ""
    labels: tuple[str, ...] = ()  # each choice's label, as copier shows it

    @property
    def computed(self) -> bool:
        return self.when is False

    @property
    def boolean(self) -> bool:
        """A yes/no question: copier's `bool`, or `yaml` with exactly true and false."""
        return self.type == "bool" or (
            len(self.choices) == 2 and all(c is True or c is False for c in self.choices)
        )

    @property
    def values(self) -> tuple[Any, ...]:
        """The values an option takes in a matrix; empty for free-text questions."""
        if self.choices:
            return self.choices
        if self.boolean:
            return (False, True)
        return ()

    @property
    def is_option(self) -> bool:
        return bool(self.values) and not self.computed


@lru_cache(maxsize=8)
def _load(config_file: Path, _mtime: float) -> dict[str, Question]:
    config = read_yaml(config_file, str(config_file)) or {}
    if not isinstance(config, dict):
        raise GoldpathError(f"{config_file}: expected a mapping of questions")
    questions: dict[str, Question] = {}
    for name, spec in config.items():
        if str(name).startswith("_"):
            continue
        if not isinstance(spec, dict):
            # copier's short form `name: default`.
            questions[name] = Question(name, "str", (), spec, None, None)
            continue
        choices = spec.get("choices") or ()
        labels: tuple[str, ...] = ()
        if isinstance(choices, dict):
            labels = tuple(str(label) for label in choices)
            choices = tuple(choices.values())
        elif isinstance(choices, list | tuple):
            choices = tuple(choices)
        else:
            raise GoldpathError(f"{config_file}: {name}.choices must be a list or a mapping")
        questions[name] = Question(
            name=name,
            type=str(spec.get("type", "str")),
            choices=choices,
            default=spec.get("default"),
            when=spec.get("when"),
            validator=spec.get("validator"),
            help=" ".join(str(spec.get("help") or "").split()),
            labels=labels,
        )
    return questions


def load_questions(template: Path) -> dict[str, Question]:
    config_file = template / "copier.yml"
    if not config_file.is_file():
        raise GoldpathError(f"{template}: no copier.yml there (is it a goldpath checkout?)")
    return _load(config_file.resolve(), config_file.stat().st_mtime)


def options(template: Path) -> dict[str, Question]:
    """The questions that shape a project's files: choices and booleans, asked of users."""
    return {name: q for name, q in load_questions(template).items() if q.is_option}


@lru_cache(maxsize=256)
def _compiled(expression: str) -> Any:
    import jinja2

    env = jinja2.Environment(autoescape=False, undefined=jinja2.ChainableUndefined)  # noqa: S701 - YAML values, not HTML
    return env.from_string(expression)


def render_condition(expression: Any, answers: Mapping[str, Any]) -> Any:
    """A `when:` or templated default, rendered as copier would, with the answers so far."""
    if not isinstance(expression, str) or "{" not in expression:
        return expression
    rendered = str(_compiled(expression).render(**answers)).strip()
    lowered = rendered.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    return rendered


def applies(question: Question, answers: Mapping[str, Any]) -> bool:
    if question.when is None:
        return True
    import jinja2

    try:
        value = render_condition(question.when, answers)
    except jinja2.TemplateError as exc:
        raise GoldpathError(
            f"copier.yml: {question.name}.when {question.when!r} cannot be evaluated ({exc})"
        ) from None
    if isinstance(value, bool):
        return value
    return str(value).lower() not in {"", "false", "none", "0"}


def defaults(template: Path, answers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every option's default, rendered in order against the answers before it. A question
    whose `when` is false still gets its default: copier renders the project with it."""
    import jinja2

    resolved: dict[str, Any] = dict(answers or {})
    for question in load_questions(template).values():
        wanted = question.is_option or question.computed
        if not wanted or question.name in resolved:
            continue
        try:
            resolved[question.name] = render_condition(question.default, resolved)
        except jinja2.TemplateError:
            continue  # a default that needs copier's own filters; no option depends on it
    return resolved


def default_problems(template: Path) -> list[str]:
    """Questions whose default is not one of their own choices, in any combination of the
    other options (`copier copy --defaults` would fail there)."""
    problems: set[str] = set()
    for combination in [{}, *full_matrix(template)]:
        resolved = defaults(template, combination)
        for question in options(template).values():
            if not question.choices or not applies(question, resolved):
                continue
            value = render_condition(question.default, resolved)
            if value not in question.choices and str(value) not in map(str, question.choices):
                problems.add(
                    f"copier.yml: {question.name}'s default {value!r} is not one of its "
                    f"choices ({', '.join(map(str, question.choices))})"
                )
    return sorted(problems)


Combination = dict[str, Any]


def full_matrix(template: Path) -> list[Combination]:
    """Every valid combination of the options, `when:` conditions honoured."""
    opts = list(options(template).values())
    computed = [q for q in load_questions(template).values() if q.computed]
    combinations: list[Combination] = [{}]
    for question in opts:
        expanded: list[Combination] = []
        for answers in combinations:
            # `when:` may read a computed value (e.g. uses_github) of the answers so far.
            context = {**answers}
            for value in computed:
                context.setdefault(value.name, render_condition(value.default, context))
            if applies(question, context):
                expanded += [{**answers, question.name: value} for value in question.values]
            else:
                expanded.append(answers)
        combinations = expanded
    return combinations


def value_pairs(combination: Combination) -> set[tuple[tuple[str, Any], tuple[str, Any]]]:
    items = sorted(combination.items(), key=lambda kv: kv[0])
    return set(itertools.combinations(items, 2))


# The answers that together choose a project's pipeline and deploy files (a kind's
# pipelines, for each CI system, on each cloud): every combination of their values is
# rendered, not only every pair.
TOGETHER = ("project_kind", "ci", "cloud")


def together(combination: Combination) -> tuple[tuple[str, Any], ...] | None:
    if not all(name in combination for name in TOGETHER):
        return None
    return tuple((name, combination[name]) for name in TOGETHER)


def _needs(combination: Combination) -> set[Any]:
    joint = together(combination)
    return value_pairs(combination) | ({joint} if joint else set())


def default_combination(template: Path) -> Combination:
    """The options `copier copy --defaults` answers: each question's default given the
    answers before it, and only the questions it asks (`when:` true)."""
    combination: Combination = {}
    for question in options(template).values():
        context = defaults(template, combination)
        if applies(question, context):
            combination[question.name] = context[question.name]
    return combination


def pairwise(template: Path) -> list[Combination]:
    """A greedy (AETG-style) cover of every value pair that occurs in some valid
    combination, and of every combination of the TOGETHER answers, starting from the
    all-defaults combination so defaults are always in."""
    candidates = full_matrix(template)
    uncovered: set[Any] = set().union(*(_needs(c) for c in candidates)) if candidates else set()
    default_combo = default_combination(template)
    if default_combo not in candidates:
        raise GoldpathError(
            f"copier.yml: the defaults ({label(default_combo)}) are not a valid combination"
        )
    chosen: list[Combination] = [default_combo]
    uncovered -= _needs(default_combo)
    while uncovered:
        best = max(candidates, key=lambda c: len(_needs(c) & uncovered))
        chosen.append(best)
        uncovered -= _needs(best)
    return chosen


def label(combination: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in combination.items())


def names(questions: Iterable[Question]) -> list[str]:
    return [q.name for q in questions]
