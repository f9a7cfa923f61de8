"""MkDocs hook (mkdocs.yml `hooks:`): adds the reference pages, generated from the code at
each build, to the site's files."""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from generator._cli import build_parser
from generator._location import REPO_ROOT
from generator._reference import pages


def on_files(files: Files, *, config: MkDocsConfig, **_: Any) -> Files:
    for path, content in pages(REPO_ROOT, build_parser()).items():
        files.append(File.generated(config, path, content=content))
    return files
