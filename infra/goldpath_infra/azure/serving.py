from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import app

from .._base import Ownership, workers_for
from ._environment import app_environment


class ServingService(pulumi.ComponentResource):
    """A Container App in its own environment (logs to Log Analytics), pulling from ACR
    with a user-assigned identity that holds AcrPull and nothing else.

    Private by default: ingress is internal to the environment and plain HTTP is refused.
    `public=True` (from an explicit stack setting) opens external ingress and tags the app
    so the policy pack recognises the intent.
    """

    url: pulumi.Output[str]
    identity_client_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        resource_group_name: pulumi.Input[str],
        location: pulumi.Input[str],
        subscription_id: pulumi.Input[str],
        registry_id: pulumi.Input[str],
        registry_server: pulumi.Input[str],
        image: pulumi.Input[str],
        ownership: Ownership,
        min_replicas: int = 0,
        max_replicas: int = 5,
        concurrent_requests: int = 50,
        port: int = 8000,
        cpu: float = 0.5,
        memory: str = "1Gi",
        env: Mapping[str, pulumi.Input[str]] | None = None,
        public: bool = False,
        log_retention_days: int = 30,
        image_managed_by_ci: bool = False,
        infrastructure_subnet_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:azure:ServingService", name, None, opts)
        base = app_environment(
            self,
            name,
            resource_group_name=resource_group_name,
            location=location,
            subscription_id=subscription_id,
            registry_id=registry_id,
            ownership=ownership,
            log_retention_days=log_retention_days,
            infrastructure_subnet_id=infrastructure_subnet_id,
        )
        self.logs, self.environment, self.identity = base.logs, base.environment, base.identity
        pull = base.pull
        self.app = app.ContainerApp(
            name,
            container_app_name=name,
            resource_group_name=resource_group_name,
            location=location,
            managed_environment_id=self.environment.id,
            identity={"type": "UserAssigned", "user_assigned_identities": [self.identity.id]},
            configuration={
                # When CI rolls images out, it also owns the revisions' traffic: a canary
                # takes a share beside the stable revision (scripts/azure/deploy-service.sh).
                "active_revisions_mode": "Multiple" if image_managed_by_ci else "Single",
                "ingress": {
                    "external": public,
                    "target_port": port,
                    "allow_insecure": False,
                    "transport": "auto",
                },
                "registries": [{"server": registry_server, "identity": self.identity.id}],
            },
            template={
                "containers": [
                    {
                        "name": "app",
                        "image": image,
                        "resources": {"cpu": cpu, "memory": memory},
                        "env": [
                            {"name": k, "value": v}
                            for k, v in {
                                "WEB_CONCURRENCY": workers_for(cpu),
                                # Which of the app's identities Entra ID tokens are for.
                                "AZURE_CLIENT_ID": self.identity.client_id,
                                **(env or {}),
                            }.items()
                        ],
                        "probes": [
                            {
                                "type": "Liveness",
                                "http_get": {"path": "/healthz", "port": port},
                            },
                            {
                                "type": "Readiness",
                                "http_get": {"path": "/readyz", "port": port},
                            },
                        ],
                    }
                ],
                "scale": {
                    "min_replicas": min_replicas,
                    "max_replicas": max_replicas,
                    "rules": [
                        {
                            "name": "http-concurrency",
                            "http": {"metadata": {"concurrentRequests": str(concurrent_requests)}},
                        }
                    ],
                },
            },
            tags=ownership.with_public(public),
            # The app can only pull its image once its identity holds AcrPull; when CI
            # rolls images out by digest, the stack must not roll them back.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[pull],
                ignore_changes=(
                    ["template.containers[0].image", "configuration.ingress.traffics"]
                    if image_managed_by_ci
                    else None
                ),
            ),
        )
        self.url = self.app.latest_revision_fqdn.apply(lambda fqdn: f"https://{fqdn}")
        self.identity_client_id = self.identity.client_id
        self.register_outputs(
            {"url": self.url, "appId": self.app.id, "identityClientId": self.identity_client_id}
        )
