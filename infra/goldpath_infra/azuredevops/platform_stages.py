from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_azuredevops as azuredevops

from .._base import child
from ._checks import approval

# The templates a generated project's pipelines extend (this repository's): CI/CD, training
# with its promotion, and the registry audit.
PIPELINE_TEMPLATE = ".azure-pipelines/stages/pipeline.yml"
ROLLBACK_TEMPLATE = ".azure-pipelines/stages/rollback.yml"
DEPLOY_TEMPLATES = (PIPELINE_TEMPLATE, ROLLBACK_TEMPLATE)
PROJECT_TEMPLATES = (*DEPLOY_TEMPLATES, ".azure-pipelines/stages/training.yml",
                     ".azure-pipelines/stages/audit.yml")  # fmt: skip
DEPLOY_ENVIRONMENTS = ("dev", "staging", "prod")
APPROVED_ENVIRONMENTS = ("staging", "prod")


class PlatformStages(pulumi.ComponentResource):
    """What makes the platform's pipeline the way every ML service deploys (#30).

    Each service's `<service>-dev`, `-staging` and `-prod` environments carry a
    required-template check: a run that deploys to them must extend goldpath's pipeline (or
    rollback) template from the platform repository at one of the approved releases, so
    every deployment runs the platform's deploy stage at a release the platform approved.
    Its service connection requires one of goldpath's templates (pipeline, rollback,
    training, audit), so no pipeline of the project reaches the cloud without them. Staging
    and prod also wait for a release approver who did not queue the run.
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
        service_connections: Mapping[str, str],
        timeout_minutes: int = 3 * 24 * 60,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:azuredevops:PlatformStages", name, None, opts)

        def required(*paths: str) -> list[azuredevops.CheckRequiredTemplateRequiredTemplateArgs]:
            return [
                azuredevops.CheckRequiredTemplateRequiredTemplateArgs(
                    repository_type=repository_type,
                    repository_name=repository_name,
                    repository_ref=release,
                    template_path=path,
                )
                for path in paths
                for release in releases
            ]

        self.environments: list[azuredevops.Environment] = []
        for service in services:
            targets: list[tuple[str, pulumi.Input[str], str, tuple[str, ...]]] = []
            for env in DEPLOY_ENVIRONMENTS:
                environment = azuredevops.Environment(
                    f"{name}-{service}-{env}",
                    project_id=project_id,
                    name=f"{service}-{env}",
                    description=f"Deployments of {service} to {env}: the platform's stages only",
                    opts=child(self),
                )
                self.environments.append(environment)
                targets.append((env, environment.id, "environment", DEPLOY_TEMPLATES))
                if env in APPROVED_ENVIRONMENTS:
                    approval(
                        self, f"{name}-{service}-{env}-approval", project_id=project_id,
                        environment=environment, approver_group_ids=approver_group_ids,
                        instructions=f"Approve the release of this digest to {env}.",
                        timeout_minutes=timeout_minutes,
                    )  # fmt: skip
            connection = service_connections[service]
            targets.append(("connection", connection, "endpoint", PROJECT_TEMPLATES))
            for target, resource_id, resource_type, templates in targets:
                azuredevops.CheckRequiredTemplate(
                    f"{name}-{service}-{target}-template",
                    project_id=project_id,
                    target_resource_id=resource_id,
                    target_resource_type=resource_type,
                    required_templates=required(*templates),
                    opts=child(self),
                )
        self.register_outputs({"services": list(services), "releases": list(releases)})
