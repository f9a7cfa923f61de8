"""The documentation site's reference pages, written from the code they describe: the
template's questions (through the options model), the CLI's parser, and every stack
configuration key the Pulumi programs read (from their source, by its `StackConfig` calls).
Generated at each build (docs/hooks.py), so a page cannot fall behind what it describes."""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ._options import Question, load_questions

PAGES = ("reference/options.md", "reference/cli.md", "reference/stack-config.md")


def _cell(text: object) -> str:
    """Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(value: object) -> str:
    if value is None or value == "":
        return ""
    text = _cell(value if isinstance(value, str) else repr(value))
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _values(question: Question) -> str:
    if question.boolean:
        return "yes/no"
    if question.labels:
        return "<br>".join(
            f"{_code(value)}: {_cell(label)}"
            for value, label in zip(question.choices, question.labels, strict=True)
        )
    return ", ".join(_code(c) for c in question.choices) or f"any {question.type}"


def options_page(template: Path) -> str:
    questions = load_questions(template)
    asked = [q for q in questions.values() if not q.computed]
    derived = [q for q in questions.values() if q.computed]
    lines = [
        "# Template options",
        "",
        "Every question `copier copy` and `goldpath new` ask, read from `copier.yml` at this "
        "site's build. Give an answer with `--data KEY=VALUE` (or copier's `--data`); a "
        "question whose condition does not hold is not asked and keeps its default.",
        "",
        "| question | values | default | asked when | what it decides |",
        "|---|---|---|---|---|",
    ]
    for q in asked:
        when = "" if q.when in (None, True) else _code(q.when)
        lines.append(
            f"| `{q.name}` | {_values(q)} | {_code(q.default)} | {when} | {_cell(q.help)} |"
        )
    lines += [
        "",
        "## Derived values",
        "",
        "Computed from the answers, never asked; templates and tests read them.",
        "",
        "| name | value |",
        "|---|---|",
    ]
    lines += [f"| `{q.name}` | {_code(q.default)} |" for q in derived]
    return "\n".join(lines) + "\n"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {a.dest: a.help or "" for a in action._choices_actions}
    return {}


def _option(action: argparse.Action) -> str:
    if action.option_strings:
        names = ", ".join(f"`{o}`" for o in action.option_strings)
        if action.nargs != 0:
            names += f" `{action.metavar or action.dest.upper()}`"
        return names
    return f"`{action.metavar or action.dest}`"


def _commands(
    parser: argparse.ArgumentParser, words: tuple[str, ...], summary: str
) -> Iterator[str]:
    children = _subcommands(parser)
    if words:
        yield f"## {' '.join(words)}"
        yield ""
        yield _cell(parser.description or summary)
        yield ""
        yield f"```text\n{' '.join(parser.format_usage().split())}\n```"
        yield ""
        rows = [
            a
            for a in parser._actions
            if not isinstance(a, argparse._SubParsersAction | argparse._HelpAction)
        ]
        if rows:
            yield "| argument | what | default |"
            yield "|---|---|---|"
            for action in rows:
                default = action.default
                shown = (
                    "" if default in (None, False, [], argparse.SUPPRESS) else _code(str(default))
                )
                yield f"| {_option(action)} | {_cell(action.help or '')} | {shown} |"
            yield ""
    helps = _helps(parser)
    for name, child in children.items():
        yield from _commands(child, (*words, name), helps.get(name, ""))


def cli_page(parser: argparse.ArgumentParser) -> str:
    lines = [
        "# The goldpath CLI",
        "",
        "Every command and option, read from the CLI's parser at this site's build. "
        "`goldpath COMMAND --help` prints the same.",
        "",
        *_commands(parser, (), ""),
    ]
    lines[4:4] = [f"- `{name}`: {_cell(text)}" for name, text in _helps(parser).items()] + [""]
    return "\n".join(lines).rstrip() + "\n"


_READS = {"text", "optional", "integer", "boolean", "structured", "strings"}
_TYPES = {
    "text": "string",
    "optional": "string",
    "integer": "whole number",
    "boolean": "true/false",
    "structured": "YAML object",
    "strings": "list of strings",
}


@dataclass(frozen=True)
class ConfigKey:
    namespace: str | None  # None: the stack's own project
    key: str
    type: str
    default: str
    allowed: str
    where: str


class _Computed(str):
    """A value the source computes: shown as its expression, never as an example."""


def _literal(node: ast.expr | None, constants: dict[str, Any] | None = None) -> Any:
    if node is None:
        return None
    if isinstance(node, ast.Name) and constants and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except ValueError:
        return _Computed(ast.unparse(node))


def _namespaces(tree: ast.AST) -> dict[str, str | None]:
    """Variables bound to `StackConfig(...)`: their namespace."""
    found: dict[str, str | None] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "StackConfig"
        ):
            namespace = _literal(node.value.args[0]) if node.value.args else None
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = namespace
    return found


def _constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level names bound to literals (patterns kept in a constant)."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], _literal(node.value)
            if isinstance(target, ast.Name) and not isinstance(value, _Computed):
                found[target.id] = value
    return found


def config_keys(source: Path, root: Path) -> list[ConfigKey]:
    tree = ast.parse(source.read_text(), str(source))
    return _merged(_reads(tree, source, root))


def helper_keys(source: Path, root: Path) -> dict[str, list[ConfigKey]]:
    """The keys each top-level function of a shared module reads: a program that calls
    the function reads them too."""
    tree = ast.parse(source.read_text(), str(source))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            reads = _reads(node, source, root, _constants(tree))
            if reads:
                found[node.name] = reads
    return found


def _reads(
    tree: ast.AST, source: Path, root: Path, constants: dict[str, Any] | None = None
) -> list[ConfigKey]:
    bound = _namespaces(tree)
    if constants is None:
        constants = _constants(tree) if isinstance(tree, ast.Module) else {}
    keys = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _READS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            continue
        owner = node.func.value
        if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name):
            if owner.func.id != "StackConfig":
                continue
            namespace = _literal(owner.args[0]) if owner.args else None
        elif isinstance(owner, ast.Name) and (owner.id in bound or owner.id.endswith("config")):
            namespace = bound.get(owner.id)
        else:
            continue
        kw = {k.arg: _literal(k.value, constants) for k in node.keywords if k.arg}
        method = node.func.attr
        if isinstance(kw.get("default"), bool):
            default = _code(str(kw["default"]).lower())
        elif isinstance(kw.get("default"), _Computed):
            default = f"{_code(kw['default'])} (computed in the source)"
        elif "default" in kw:
            default = _code(kw["default"])
        elif method in {"optional", "structured"} or kw.get("required") is False:
            default = "unset"
        else:
            default = "**required**"
        allowed = []
        if kw.get("choices"):
            allowed.append("one of " + ", ".join(_code(c) for c in kw["choices"]))
        if isinstance(kw.get("pattern"), _Computed):
            allowed.append(f"matches {_code(kw['pattern'])} (computed in the source)")
        elif kw.get("pattern"):
            allowed.append("matches " + _code(kw["pattern"]))
        if method == "integer":
            allowed.append(f"{kw.get('minimum', 0)} to {kw.get('maximum', 1000)}")
        if kw.get("example") and not isinstance(kw["example"], _Computed):
            allowed.append("e.g. " + _code(kw["example"]))
        where = f"{source.relative_to(root)}:{node.lineno}"
        keys.append(ConfigKey(namespace, node.args[0].value, _TYPES[method], default,
                              "; ".join(allowed), where))  # fmt: skip
    return keys


def _merged(keys: list[ConfigKey]) -> list[ConfigKey]:
    # A key read twice (checked for presence, then read as text) is one key: unset if
    # either read allows that, with the constraints of the read that states them.
    unique: dict[tuple[str | None, str], ConfigKey] = {}
    for key in sorted(keys, key=lambda k: (k.namespace or "", k.key, k.where)):
        seen = unique.get((key.namespace, key.key))
        if seen is not None:
            key = replace(
                seen if len(seen.allowed) >= len(key.allowed) else key,
                default="unset" if "unset" in (seen.default, key.default) else seen.default,
                where=seen.where,
            )
        unique[(key.namespace, key.key)] = key
    return list(unique.values())


def _table(keys: list[ConfigKey], project: str) -> Iterator[str]:
    yield "| key | type | default | allowed | read at |"
    yield "|---|---|---|---|---|"
    for k in keys:
        name = f"{k.namespace or project}:{k.key}"
        yield f"| `{name}` | {k.type} | {k.default} | {k.allowed} | `{k.where}` |"
    yield ""


def _pulumi_project(program: Path) -> str:
    for line in (program / "Pulumi.yaml").read_text().splitlines():
        if line.startswith("name:"):
            return line.split(":", 1)[1].strip()
    return program.name


def stack_config_page(repo: Path) -> str:
    infra = repo / "infra"
    lines = [
        "# Stack configuration",
        "",
        "Every key the Pulumi programs read, found in their source at this site's build "
        "(each `StackConfig` read). Set one with `pulumi config set KEY VALUE` in the "
        "stack's folder; a list with `pulumi config set --path 'KEY[0]' VALUE`. A missing "
        "or invalid value stops the program with one line naming the key and that command.",
        "",
        "## A project's service stack",
        "",
        "The `infra/` program of each generated project (its components come from "
        "goldpath-infra); `<project>` is the Pulumi project's name.",
        "",
        *_table(config_keys(infra / "goldpath_infra" / "_service.py", repo), "<project>"),
    ]
    helpers = {
        name: keys
        for module in ("_base.py", "_governance.py")
        for name, keys in helper_keys(infra / "goldpath_infra" / module, repo).items()
    }
    for program in sorted((infra / "platform").iterdir()):
        main = program / "__main__.py"
        if not main.is_file():
            continue
        called = {
            node.id if isinstance(node, ast.Name) else node.attr
            for node in ast.walk(ast.parse(main.read_text()))
            if isinstance(node, ast.Name | ast.Attribute)
        }
        keys = _merged(
            [
                *config_keys(main, repo),
                *(k for name in called & helpers.keys() for k in helpers[name]),
            ]
        )
        lines += [f"## Platform stack: {program.name}", "", f"`{main.relative_to(repo)}`", ""]
        lines += _table(keys, _pulumi_project(program))
    return "\n".join(lines).rstrip() + "\n"


def pages(repo: Path, parser: argparse.ArgumentParser) -> dict[str, str]:
    contents = (options_page(repo), cli_page(parser), stack_config_page(repo))
    return dict(zip(PAGES, contents, strict=True))
