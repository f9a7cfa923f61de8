"""copier.yml: defaults, derived answers and validators, through copier itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator._template import REPO_ROOT, GoldpathError, render


def answers_of(project: Path) -> dict[str, object]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())  # type: ignore[no-any-return]


def test_defaults_derive_slug_from_folder_name(tmp_path: Path) -> None:
    project = render(tmp_path / "RFQ Hit-Model", vcs_ref="HEAD", template=str(REPO_ROOT))
    answers = answers_of(project)
    assert answers["project_name"] == "RFQ Hit-Model"
    assert answers["project_slug"] == "rfq_hit_model"
    assert answers["serving"] == "fastapi"
    assert answers["cloud"] == "gcp"
    assert answers["databricks"] is False
    assert (project / "src" / "rfq_hit_model" / "__init__.py").is_file()
    assert answers["_src_path"] == str(REPO_ROOT)


def test_databricks_defaults_on_for_azure(tmp_path: Path) -> None:
    project = render(tmp_path / "p", data={"cloud": "azure"}, vcs_ref="HEAD")
    assert answers_of(project)["databricks"] is True


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"project_slug": "1-Bad name"}, 'project_slug "1-Bad name" is not a valid package name'),
        ({"project_slug": "import"}, "would shadow a Python keyword"),
        ({"project_slug": "mlflow"}, "would shadow a Python keyword or a package"),
        ({"owner": "ML Team"}, 'owner "ML Team" is not a valid team name'),
        ({"owner_email": "nobody"}, 'owner_email "nobody" is not an email address'),
        ({"project_name": "  "}, "project_name must not be empty"),
    ],
)
def test_invalid_answer_fails_with_the_validator_message(
    tmp_path: Path, data: dict[str, str], message: str
) -> None:
    destination = tmp_path / "project"
    with pytest.raises(GoldpathError) as caught:
        render(destination, data=data, vcs_ref="HEAD")
    assert message in str(caught.value)
    assert "Traceback" not in str(caught.value)
    assert not destination.exists() or not any(destination.iterdir())


def test_choice_outside_options_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(GoldpathError, match="serving"):
        render(tmp_path / "p", data={"serving": "django"}, vcs_ref="HEAD")


@pytest.mark.parametrize("value", ["maybe", "1", "tru"])
def test_a_yes_no_answer_is_true_or_false_only(tmp_path: Path, value: str) -> None:
    """copier's own CLI, as the README's `copier copy` runs it: a bool question would cast
    "maybe" to true and generate the bundle; a yes/no choice refuses it by name."""
    destination = tmp_path / "p"
    result = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref", "HEAD",
         "--data", f"databricks={value}", str(REPO_ROOT), str(destination)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "'databricks'" in result.stderr.strip().splitlines()[-1]
    assert not (destination / ".copier-answers.yml").exists()


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("no", False), ("true", True)])
def test_yes_no_answers_are_recorded_as_booleans(
    tmp_path: Path, value: str, expected: bool
) -> None:
    project = render(tmp_path / "p", data={"databricks": value}, vcs_ref="HEAD")
    assert answers_of(project)["databricks"] is expected
    assert (project / "databricks.yml").exists() is expected


def test_follow_up_questions_come_right_after_the_question_they_follow() -> None:
    """copier asks in file order: `databricks`' three follow-ups straight after it, and
    GitHub's two after `ci`'s derived values, not between `databricks` and its own."""
    from generator._options import load_questions

    asked = [n for n, q in load_questions(REPO_ROOT).items() if not q.computed]
    at = asked.index("databricks")
    assert asked[at : at + 4] == ["databricks", "databricks_compute", "uc_catalog", "uc_schema"]
    assert asked.index("github_enterprise") == asked.index("github_repository") + 1
    assert asked.index("github_repository") > asked.index("ci")
