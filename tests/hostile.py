"""The catalogue of hostile input, one family per trust boundary, as hypothesis strategies.

Every boundary's tests draw from here rather than listing a few cases by hand:
- `hostile_text`: what an engineer may type as an answer (quotes of every kind,
  backslashes, newlines, YAML/TOML/Markdown indicators, `#`, Jinja- and Actions-looking
  text, shell metacharacters, non-ASCII, controls);
- `hostile_sources`: template and repo locations a team may write (options, command
  transports, look-alike hosts);
- `hostile_yaml`: documents a team may commit where goldpath reads YAML (alias bombs,
  deep nesting, binary, huge, wrong shapes);
- `hostile_catalogs`: what a project may commit as its `catalog-info.yaml` for the fleet's
  catalog (hostile YAML, entities of the wrong shape or kind, placeholders and TechDocs
  references pointing elsewhere, thousands of documents);
- `hostile_retirements`: what a record's `retired:` may hold;
- `hostile_forge_answers`: what a forge's API (or anything answering in its place) may
  send back to a rollout: not JSON, huge, deeply nested, pull requests of the wrong shape;
- `hostile_chains`, `hostile_registries`: what anyone who can push to a project's
  governance-record branch may publish as its audit chain (`audit.jsonl`: damaged, binary,
  huge, deeply nested, or correctly linked entries with hostile values) and as the
  registry's champion (`registry.json`).
"""

from __future__ import annotations

import hashlib
import json

from hypothesis import strategies as st

# Pieces that change the meaning of a line in some language a rendered file is written in.
SYNTAX = [
    '"',
    "'",
    "`",
    "\\",
    "\n",
    "\r\n",
    "\t",
    ": ",
    " #",
    "#",
    "- ",
    "* ",
    "[",
    "]",
    "{",
    "}",
    "&a ",
    "*a",
    "!!python/object:os.system ",
    "|",
    ">",
    "%",
    "@",
    "?",
    ",",
    "=",
    "${{ github.token }}",
    "{{ 7*7 }}",
    "{% raw %}",
    "$(whoami)",
    "$HOME",
    ";",
    "&&",
    "<!--",
    "-->",
    '"""',
    "'''",
    "\\u0041",
    "\\x41",
    "\\n",
    "\x00",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\ufeff",
    "é",
    "ß",
    "€",
    "中",
    "😀",
    "\U0001f9ea",
]

hostile_text = st.lists(
    st.one_of(st.sampled_from(SYNTAX), st.text(min_size=1, max_size=4)), max_size=12
).map("".join)


def single_line(text: str) -> str:
    return " ".join(text.splitlines())


_HOSTILE_SOURCE_PIECES = [
    "--upload-pack=touch /tmp/x",
    "-oProxyCommand=x",
    "ext::sh -c x",
    "fd::0",
    "file:///",
    "https://",
    "ssh://",
    "git@",
    "gh:",
    "gl:",
    "javascript://",
    "\n",
    "..",
    "/",
    ":",
    "evil.example",
    "github.com",
    "github.com.evil.example",
    "acme",
    "goldpath",
    ".git",
]
hostile_sources = st.lists(
    st.one_of(st.sampled_from(_HOSTILE_SOURCE_PIECES), st.text(max_size=6)),
    min_size=1,
    max_size=8,
).map("".join)


def alias_bomb(levels: int = 9) -> str:
    """The billion-laughs document: a few hundred bytes, 9**levels leaves once expanded."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join(['*a' + str(i - 1)] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + f"\nbomb: *a{levels - 1}\n"


def deep_nesting(depth: int = 20_000) -> str:
    return "x: " + "[" * depth + "]" * depth + "\n"


_SHAPES = [
    alias_bomb(),
    deep_nesting(),
    "",
    "~\n",
    "- a list\n",
    "3\n",
    "'text'\n",
    "{\n",
    "key: [unclosed\n",
    "\ufeff_commit: v1\n",
    "_src_path: !!python/object/apply:os.system [id]\n",
    "a: 1\na: 2\n",
    "x: " + "y" * 3_000_000 + "\n",
]
hostile_yaml = st.one_of(
    st.sampled_from(_SHAPES).map(str.encode),
    st.binary(max_size=256),
    hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
)

_ENTITY = "apiVersion: backstage.io/v1alpha1\nkind: {kind}\nmetadata: {metadata}\nspec: {spec}\n"
# Where a descriptor may tell the portal to read documentation from.
_TECHDOCS_REFS = ["'dir:../../etc'", "'dir:/srv/docs'", "'url:https://docs.internal/x'",
                  "'dir:docs/../../x'", "3", "'dir:a\\\\..\\\\..'", "{$text: ./x}"]  # fmt: skip
_CATALOG_SHAPES = [
    _ENTITY.format(kind="Component", metadata="{name: a}", spec="{type: service}"),
    _ENTITY.format(kind="Location", metadata="{name: a}", spec="{target: ../../etc/passwd}"),
    _ENTITY.format(kind="API", metadata="{name: a}", spec="{definition: {$text: ../other/x}}"),
    _ENTITY.format(kind="API", metadata="{name: a}", spec="{definition: {$text: ./openapi.json}}"),
    _ENTITY.format(kind="Resource", metadata="[a]", spec="{}"),
    _ENTITY.format(kind="Resource", metadata="{name: 3}", spec="{}"),
    _ENTITY.format(kind="System", metadata="{name: a, x: {$json: https://x.internal}}", spec="{}"),
    "apiVersion: other/v1\nkind: System\nmetadata: {name: a}\n",
    "---\n" * 5_000,
    ("---\n" + _ENTITY.format(kind="System", metadata="{name: a}", spec="{}")) * 200,
    "- not\n- a mapping\n",
    *(
        _ENTITY.format(
            kind="Component",
            spec="{type: service}",
            metadata="{name: a, annotations: {backstage.io/techdocs-ref: " + ref + "}}",
        )
        for ref in _TECHDOCS_REFS
    ),
]
hostile_catalogs = st.one_of(
    hostile_yaml,
    st.sampled_from(_CATALOG_SHAPES).map(str.encode),
    st.lists(st.sampled_from(_CATALOG_SHAPES), min_size=2, max_size=4).map(
        lambda parts: "---\n".join(parts).encode()
    ),
)

# A governance record's `retired:` value, as a team (or anyone who can push) might write
# it: nothing, text, numbers, dates and times of any era, and mappings of those.
_retirement_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), hostile_text,
    st.dates(), st.datetimes(), st.lists(st.text(max_size=4), max_size=3),
)  # fmt: skip
hostile_retirements = st.one_of(
    _retirement_leaf,
    st.fixed_dictionaries({}, optional={"at": _retirement_leaf, "reason": _retirement_leaf}),
    st.dictionaries(st.text(max_size=8), _retirement_leaf, max_size=4),
)

# An audit chain's fields, and values for them a forger might write.
_CHAIN_FIELDS = ["subject", "version", "action", "approver", "reason", "at", "system", "step",
                 "validator", "writer", "previous", "prev"]  # fmt: skip
_chain_value = st.one_of(
    hostile_text, st.sampled_from(["1", "2", "999", "applied", "approved", "promoted",
                                   "rolled_back", ""]),
    st.integers(), st.none(), st.lists(st.integers(), max_size=3),
)  # fmt: skip


def _linked(entries: list[dict[str, object]]) -> bytes:
    """Entries chained as the runtime chains them: each carries the SHA-256 of the line
    before it, so only their values are hostile."""
    lines, previous = [], ""
    for entry in entries:
        text = json.dumps({**entry, "prev": previous}, sort_keys=True, ensure_ascii=False)
        lines.append(text)
        previous = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return "".join(f"{line}\n" for line in lines).encode("utf-8", "surrogatepass")


_CHAIN_SHAPES = [
    b"", b"\n", b"\n\n", b"\xff\xfe{}", b"null\n", b"[]\n", b"{}\n", b'"text"\n',
    ("[" * 50_000 + "]" * 50_000 + "\n").encode(), b'{"prev": "' + b"0" * 64 + b'"}\n',
    b"{" + b'"a":' * 3 + b"1}\n", ("{}\n" * 200_000).encode(), b"x" * 3_000_000,
]  # fmt: skip
hostile_chains = st.one_of(
    st.sampled_from(_CHAIN_SHAPES),
    st.binary(max_size=256),
    st.lists(hostile_text, max_size=5).map(
        lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")
    ),
    st.lists(st.dictionaries(st.sampled_from(_CHAIN_FIELDS), _chain_value), max_size=4).map(
        _linked
    ),
)
hostile_registries = st.one_of(
    st.sampled_from([b"", b"null", b"[]", b'{"version": 3}', b'{"version": "\x1b[2J9"}',
                     ("[" * 50_000 + "]" * 50_000).encode(), b'{"version": null}']),
    st.binary(max_size=64),
    st.dictionaries(st.sampled_from(["version", "read_at", "subject"]), _chain_value).map(
        lambda d: json.dumps(d).encode()
    ),
)  # fmt: skip


# A service stack's outputs as the CI's scripts read them (service-stack.json, providerEnv):
# written by the platform's stack, landing in a CI system's environment file.
hostile_stack_outputs = st.dictionaries(
    st.one_of(st.sampled_from(["PROVIDER", "PROVIDER_MODEL", "BASH_ENV", "LD_PRELOAD"]),
              hostile_text),
    st.one_of(hostile_text, st.integers(), st.none(), st.lists(st.text(max_size=3), max_size=2)),
    max_size=5,
)  # fmt: skip


# What a forge (or whatever answers at its address) may send a rollout's pull-request client.
_PULL_FIELDS = ["number", "pullRequestId", "state", "status", "title", "body", "description",
                "html_url", "labels", "head", "draft", "isDraft", "repository", "merged_at",
                "lastMergeSourceCommit", "value", "count", "statuses"]  # fmt: skip
_forge_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(_PULL_FIELDS), inner, max_size=4)),
    max_leaves=12,
)  # fmt: skip
hostile_forge_answers = st.one_of(
    st.sampled_from([b"", b"null", b"[]", b"{}", b"<html>Bad gateway</html>", b'{"value": 3}',
                     ("[" * 100_000 + "]" * 100_000).encode(), b"[" + b"{}," * 2_000_000 + b"{}]",
                     b'[{"number": 1, "labels": "x", "head": []}]',
                     b'{"value": [{"pullRequestId": 1, "repository": 7}]}']),
    st.binary(max_size=128),
    _forge_value.map(lambda value: json.dumps(value).encode()),
    st.lists(st.dictionaries(st.sampled_from(_PULL_FIELDS), _forge_value, max_size=6),
             max_size=3).map(lambda items: json.dumps(items).encode()),
)  # fmt: skip
