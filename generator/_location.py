"""Where the template is: the one resolver behind every `--template` flag."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ._errors import GoldpathError
from ._vcs import check_source, is_remote

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class TemplateLocation:
    source: str  # what copier is given
    local: Path | None  # a checkout whose copier.yml goldpath can read, when there is one
    default_ref: str | None  # "HEAD" for this checkout (its working tree); else copier's latest tag


def locate(template: str | None) -> TemplateLocation:
    """No `--template`: this checkout, rendered at its working tree (edits included).
    A path or git URL: as given, at its latest release tag unless a ref is asked for."""
    if template is None:
        if not (REPO_ROOT / "copier.yml").is_file():
            raise GoldpathError(
                "no template found: pass --template (a path or git URL of goldpath)"
            )
        return TemplateLocation(str(REPO_ROOT), REPO_ROOT, "HEAD")
    source = check_source(template, "--template")
    if is_remote(source):
        return TemplateLocation(source, None, None)
    local = Path(source)
    if not (local / "copier.yml").is_file():
        raise GoldpathError(f"--template {source}: no copier.yml there (a goldpath checkout?)")
    return TemplateLocation(source, local, None)


REF_HELP = (
    "template tag or commit (default: this checkout's working tree, or --template's latest tag)"
)
