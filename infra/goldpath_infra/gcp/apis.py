from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from .._base import child

DEFAULT_APIS = (
    "artifactregistry.googleapis.com",
    "run.googleapis.com",
    "sqladmin.googleapis.com",
    "secretmanager.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "sts.googleapis.com",
    "monitoring.googleapis.com",
)


class RequiredApis(pulumi.ComponentResource):
    """Enables the Google APIs the other components use. Disabling on destroy is off:
    other workloads in the project may depend on the same APIs."""

    def __init__(
        self,
        name: str,
        project: str,
        apis: tuple[str, ...] = DEFAULT_APIS,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:gcp:RequiredApis", name, None, opts)
        self.services = [
            gcp.projects.Service(
                f"{name}-{api.split('.')[0]}",
                project=project,
                service=api,
                disable_on_destroy=False,
                opts=child(self),
            )
            for api in apis
        ]
        self.register_outputs({"apis": list(apis)})
