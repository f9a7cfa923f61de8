"""goldpath as a Backstage software template (`backstage/template.yaml`): the portal's
"Create" form asks copier.yml's questions, read through the one options model, so the
form cannot drift from the template; its steps render the project with goldpath, publish
the repository to the CI system the answers name and register its catalog-info.yaml.

`goldpath backstage-template` writes the file; a test fails when the committed one is not
what the options model gives today.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ._options import Question, load_questions

OUTPUT = Path("backstage") / "template.yaml"
# The repository's host per CI answer, and the scaffolder action that publishes there.
PUBLISHERS = {
    "github": ("github.com", "publish:github"),
    "azure-devops": ("dev.azure.com", "publish:azure"),
    "gitlab": ("gitlab.com", "publish:gitlab"),
}


def _field(question: Question) -> dict[str, Any]:
    field: dict[str, Any] = {"title": question.name.replace("_", " ").capitalize()}
    notes = [question.help.rstrip(".")] if question.help else []
    if question.boolean:
        field["type"] = "boolean"
    else:
        field["type"] = "string"
        if question.choices:
            field["enum"] = [str(choice) for choice in question.choices]
            if question.labels:
                field["enumNames"] = list(question.labels)
    default = question.default
    if isinstance(default, bool | int | float) or (isinstance(default, str) and "{" not in default):
        field["default"] = (
            default if question.boolean or not isinstance(default, bool) else str(default)
        )
    elif default is not None:
        notes.append("Left empty, goldpath derives it from the other answers")
    if question.when is not None:
        notes.append(f"Asked only when {str(question.when).strip('{} ')}")
    if notes:
        field["description"] = ". ".join(notes) + "."
    return field


def software_template(template: Path) -> dict[str, Any]:
    questions = [q for q in load_questions(template).values() if not q.computed]
    answers = {q.name: "${{ parameters.%s }}" % q.name for q in questions}  # noqa: UP031 - a Nunjucks expression
    publish_steps = []
    for ci, (host, action) in PUBLISHERS.items():
        chosen = f"parameters.ci == '{ci}'" + (
            " or parameters.ci == 'both'" if ci != "gitlab" else ""
        )
        publish_steps.append({
            "id": f"publish-{ci}", "name": f"Publish to {host}", "action": action,
            "if": "${{ %s }}" % chosen,  # noqa: UP031 - a Nunjucks expression
            "input": {"repoUrl": "${{ parameters.repoUrl }}", "defaultBranch": "main",
                      "description": "${{ parameters.description }}"},
        })  # fmt: skip
    # The longest step id first, so that YAML can fold the expression within yamllint's 120.
    contents = " or ".join(
        f"steps['publish-{ci}'].output.repoContentsUrl"
        for ci in sorted(PUBLISHERS, key=len, reverse=True)
    )
    return {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {
            "name": "goldpath-ml-project",
            "title": "ML project (goldpath)",
            "description": "A tabular model service or an LLM extraction service, on the golden "
            "path: tests, pipelines, its cloud stack, governance and the catalog entry.",
            "tags": ["ml", "goldpath", "python"],
        },
        "spec": {
            "owner": "group:default/ml-platform",
            "type": "service",
            "parameters": [
                {
                    "title": "The project",
                    "required": ["project_name", "owner"],
                    "properties": {q.name: _field(q) for q in questions},
                },
                {
                    "title": "Its repository",
                    "required": ["repoUrl"],
                    "properties": {
                        "repoUrl": {
                            "title": "Repository",
                            "type": "string",
                            "ui:field": "RepoUrlPicker",
                            "ui:options": {
                                "allowedHosts": [host for host, _ in PUBLISHERS.values()]
                            },
                        }
                    },
                },
            ],
            "steps": [
                {
                    "id": "render",
                    "name": "Render the project with goldpath",
                    "action": "goldpath:new",
                    "input": {"answers": answers},
                },
                *publish_steps,
                {
                    "id": "register",
                    "name": "Register it in the catalog",
                    "action": "catalog:register",
                    "input": {
                        "repoContentsUrl": "${{ %s }}" % contents,  # noqa: UP031
                        "catalogInfoPath": "/catalog-info.yaml",
                    },
                },
            ],
            "output": {
                "links": [
                    {
                        "title": "Open in the catalog",
                        "icon": "catalog",
                        "entityRef": "${{ steps['register'].output.entityRef }}",
                    },
                ]
            },
        },
    }


class _Indented(yaml.SafeDumper):
    """Sequences indented under their key, as this repository's yamllint wants."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def render_template(template: Path) -> str:
    header = ("# Generated by `goldpath backstage-template` from copier.yml: do not edit; "
              "regenerate.\n")  # fmt: skip
    body = yaml.dump(software_template(template), Dumper=_Indented, sort_keys=False, width=80)
    return header + body
