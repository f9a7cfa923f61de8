"""Reading the YAML files users write (presets, fleet files, answers files, governance
records): a mistake is one line naming the file, the line and the problem, never a parser
dump; and a hostile file costs bounded memory and time.

PyYAML shares an aliased node between its uses, so a few hundred bytes of nested aliases
(the "billion laughs") load instantly and explode when anything walks the result; deep
nesting overflows the stack. Documents here are composed first, then refused when they
nest too deep or would expand past a fixed number of nodes, before anything is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ._errors import GoldpathError

MAX_BYTES = 1 << 20  # 1 MiB: a governance record or answers file is a few KiB
MAX_DEPTH = 64
MAX_NODES = 100_000


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses deep nesting while it composes."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise yaml.YAMLError(f"nested deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _NumbersAsTextLoader(_BoundedLoader):
    """Numbers stay as written: a preset's `python_version: 3.10` is "3.10", not 3.1."""


def _as_written(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return loader.construct_scalar(node)  # type: ignore[arg-type]


for _tag in ("int", "float"):
    _NumbersAsTextLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _as_written)


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has once every alias is expanded (memoised per node,
    so a bomb is measured without being expanded)."""
    sizes: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack: list[yaml.Node] = [root]
    while stack:  # post-order without recursion
        node = stack.pop()
        if id(node) in sizes:
            continue
        sizes[id(node)] = -1
        order.append(node)
        stack.extend(_children(node))
    for node in reversed(order):
        total = 1 + sum(sizes[id(child)] for child in _children(node))
        sizes[id(node)] = min(total, MAX_NODES + 1)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _refusal(exc: Exception, what: str) -> GoldpathError:
    """One line for a document the parser refused: the file, the line, the problem."""
    if isinstance(exc, RecursionError):
        return GoldpathError(f"{what}: nested too deep; refused")
    mark = getattr(exc, "problem_mark", None)
    where = f" line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return GoldpathError(f"{what}{where}: not valid YAML ({problem})")


def loads_all(text: str, what: str, max_documents: int = 100) -> list[Any]:
    """Every document of `text` (a catalog descriptor holds several), under the same
    bounds as `loads`, counted over all of them."""
    if len(text) > MAX_BYTES:
        raise GoldpathError(f"{what}: larger than {MAX_BYTES // 1024} KiB; refused")
    loader = None
    documents: list[Any] = []
    try:
        loader = _BoundedLoader(text)
        total = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            total += _expanded_size(node)
            if total > MAX_NODES or len(documents) >= max_documents:
                raise GoldpathError(f"{what}: more than {MAX_NODES:,} values or "
                                    f"{max_documents} documents; refused")  # fmt: skip
            documents.append(loader.construct_document(node))
        return documents
    except (yaml.YAMLError, RecursionError) as exc:
        raise _refusal(exc, what) from None
    finally:
        if loader is not None:
            loader.dispose()


def loads(text: str, what: str, *, numbers_as_text: bool = False) -> Any:
    """`text`'s single document; GoldpathError starting with `what` when it is not valid
    YAML, nests too deep or expands past MAX_NODES. `numbers_as_text` keeps numbers as
    they are written (answers are text: a version 3.10 is not the number 3.1)."""
    if len(text) > MAX_BYTES:
        raise GoldpathError(f"{what}: larger than {MAX_BYTES // 1024} KiB; refused")
    loader = None
    try:
        # The loader refuses unprintable characters straight away.
        loader = (_NumbersAsTextLoader if numbers_as_text else _BoundedLoader)(text)
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_NODES:
            raise GoldpathError(
                f"{what}: expands to more than {MAX_NODES:,} values (nested aliases); refused"
            )
        return loader.construct_document(node)
    except (yaml.YAMLError, RecursionError) as exc:
        raise _refusal(exc, what) from None
    finally:
        if loader is not None:
            loader.dispose()


def decode(data: bytes, what: str) -> str:
    if len(data) > MAX_BYTES:
        raise GoldpathError(f"{what}: larger than {MAX_BYTES // 1024} KiB; refused")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise GoldpathError(f"{what}: not UTF-8 text") from None


def read_yaml(path: Path, what: str, *, numbers_as_text: bool = False) -> Any:
    """`path`'s document; GoldpathError starting with `what` when it cannot be read."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise GoldpathError(f"{what}: cannot be read ({exc.strerror})") from None
    return loads(decode(data, what), what, numbers_as_text=numbers_as_text)
