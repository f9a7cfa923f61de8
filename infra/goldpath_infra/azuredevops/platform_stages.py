from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_azuredevops as azuredevops

from .._base import child
from ._checks import approval

# The template a generated azure-pipelines.yml extends (this repository's copy).
PIPELINE_TEMPLATE = ".azure-pipelines/stages/pipeline.yml"
DEPLOY_ENVIRONMENTS = ("dev", "staging", "prod")
APPROVED_ENVIRONMENTS = ("staging", "prod")


class PlatformStages(pulumi.ComponentResource):
    """What makes the platform's pipeline the way every ML service deploys (#30).

    Each service's `<service>-dev`, `-staging` and `-prod` environments carry a
    required-template check: a run that deploys to them must extend goldpath's pipeline
    template from the platform repository at one of the approved releases, so every
    deployment runs the platform's build and deploy stages at a release the platform
    approved. Staging and prod also wait for a release approver who did not queue the run.

    The service connection is not checked: the project's training and registry-audit
    pipelines use it without extending the template.
    """

    def __init__(
        self,
        name: str,
        *,
        project_id: pulumi.Input[str],
        services: Sequence[str],
        repository_type: str,
        repository_name: str,
        releases: Sequence[str],
        approver_group_ids: Sequence[str],
        timeout_minutes: int = 3 * 24 * 60,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:azuredevops:PlatformStages", name, None, opts)
        required = [
            azuredevops.CheckRequiredTemplateRequiredTemplateArgs(
                repository_type=repository_type,
                repository_name=repository_name,
                repository_ref=release,
                template_path=PIPELINE_TEMPLATE,
            )
            for release in releases
        ]
        self.environments: list[azuredevops.Environment] = []
        for service in services:
            targets: list[tuple[str, pulumi.Input[str], str]] = []
            for env in DEPLOY_ENVIRONMENTS:
                environment = azuredevops.Environment(
                    f"{name}-{service}-{env}",
                    project_id=project_id,
                    name=f"{service}-{env}",
                    description=f"Deployments of {service} to {env}: the platform's stages only",
                    opts=child(self),
                )
                self.environments.append(environment)
                targets.append((env, environment.id, "environment"))
                if env in APPROVED_ENVIRONMENTS:
                    approval(
                        self, f"{name}-{service}-{env}-approval", project_id=project_id,
                        environment=environment, approver_group_ids=approver_group_ids,
                        instructions=f"Approve the release of this digest to {env}.",
                        timeout_minutes=timeout_minutes,
                    )  # fmt: skip
            for target, resource_id, resource_type in targets:
                azuredevops.CheckRequiredTemplate(
                    f"{name}-{service}-{target}-template",
                    project_id=project_id,
                    target_resource_id=resource_id,
                    target_resource_type=resource_type,
                    required_templates=required,
                    opts=child(self),
                )
        self.register_outputs({"services": list(services), "releases": list(releases)})
