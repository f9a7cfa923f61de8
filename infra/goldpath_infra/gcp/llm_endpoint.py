from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp

from .._base import child

VERTEX_API = "aiplatform.googleapis.com"


class LlmEndpoint(pulumi.ComponentResource):
    """Vertex AI for one service: the API enabled, and `roles/aiplatform.user` granted to
    the service's own service account, plus the `evaluators` named explicitly (the CI
    identity that runs the evaluation gate on main), and nobody else. Calls carry that
    account's application-default token; no API key or key file exists."""

    endpoint: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        project: pulumi.Input[str],
        location: pulumi.Input[str],
        service_account_email: pulumi.Input[str],
        evaluators: Sequence[pulumi.Input[str]] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:gcp:LlmEndpoint", name, None, opts)
        self.api = gcp.projects.Service(
            f"{name}-aiplatform",
            project=project,
            service=VERTEX_API,
            disable_on_destroy=False,  # other workloads in the project may use Vertex too
            opts=child(self),
        )
        self.user = gcp.projects.IAMMember(
            f"{name}-aiplatform-user",
            project=project,
            role="roles/aiplatform.user",
            member=pulumi.Output.concat("serviceAccount:", service_account_email),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.api]),
        )
        self.evaluators = [
            gcp.projects.IAMMember(
                f"{name}-aiplatform-evaluator-{index}",
                project=project,
                role="roles/aiplatform.user",
                member=pulumi.Output.concat("serviceAccount:", evaluator),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.api]),
            )
            for index, evaluator in enumerate(evaluators)
        ]
        self.endpoint = pulumi.Output.concat(
            "https://", location, "-aiplatform.googleapis.com/v1/projects/", project,
            "/locations/", location, "/endpoints/openapi",
        )  # fmt: skip
        self.register_outputs({"endpoint": self.endpoint})
