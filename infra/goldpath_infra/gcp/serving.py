from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_gcp as gcp

from .._base import Ownership, child, workers_for

INTERNAL = "INGRESS_TRAFFIC_INTERNAL_ONLY"
PUBLIC = "INGRESS_TRAFFIC_ALL"


class ServingService(pulumi.ComponentResource):
    """A Cloud Run (v2) service with its own service account.

    Private by default: ingress is internal and only `invokers` may call it. A public
    service needs `public=True`, which the stack sets only from an explicit config value
    and which marks the resource so the policy pack can tell intent from accident.
    """

    url: pulumi.Output[str]
    service_account_email: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        project: pulumi.Input[str],
        region: pulumi.Input[str],
        image: pulumi.Input[str],
        ownership: Ownership,
        invokers: Sequence[pulumi.Input[str]] = (),
        min_instances: int = 0,
        max_instances: int = 5,
        port: int = 8000,
        cpu: str = "1",
        memory: str = "1Gi",
        env: Mapping[str, pulumi.Input[str]] | None = None,
        secret_env: Mapping[str, pulumi.Input[str]] | None = None,
        readiness_path: str = "/readyz",
        liveness_path: str = "/healthz",
        public: bool = False,
        cloud_sql_instances: Sequence[pulumi.Input[str]] = (),
        args: Sequence[pulumi.Input[str]] | None = None,
        image_managed_by_ci: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:gcp:ServingService", name, None, opts)
        self.account = gcp.serviceaccount.Account(
            f"{name}-sa",
            project=project,
            account_id=f"{name}-run"[:30],
            display_name=f"Cloud Run service {name}",
            opts=child(self),
        )
        self.service_account_email = self.account.email
        # Each secret is readable by this service's account only, one grant per variable.
        for variable, secret in (secret_env or {}).items():
            gcp.secretmanager.SecretIamMember(
                f"{name}-reads-{variable.lower().replace('_', '-')}",
                project=project,
                secret_id=secret,
                role="roles/secretmanager.secretAccessor",
                member=self.account.email.apply(lambda e: f"serviceAccount:{e}"),
                opts=child(self),
            )
        envs: list[gcp.cloudrunv2.ServiceTemplateContainerEnvArgsDict] = [
            {"name": k, "value": v}
            for k, v in {"WEB_CONCURRENCY": workers_for(cpu), **(env or {})}.items()
        ]
        envs += [
            {"name": k, "value_source": {"secret_key_ref": {"secret": s, "version": "latest"}}}
            for k, s in (secret_env or {}).items()
        ]
        volumes: list[gcp.cloudrunv2.ServiceTemplateVolumeArgsDict] = (
            [{"name": "cloudsql", "cloud_sql_instance": {"instances": list(cloud_sql_instances)}}]
            if cloud_sql_instances
            else []
        )
        container: gcp.cloudrunv2.ServiceTemplateContainerArgsDict = {
            "image": image,
            "ports": {"container_port": port},
            "resources": {"limits": {"cpu": cpu, "memory": memory}},
            "envs": envs,
            "startup_probe": {
                "http_get": {"path": readiness_path, "port": port},
                "period_seconds": 5,
                "failure_threshold": 24,
            },
            "liveness_probe": {"http_get": {"path": liveness_path, "port": port}},
        }
        if args:
            container["args"] = list(args)
        if volumes:
            container["volume_mounts"] = [{"name": "cloudsql", "mount_path": "/cloudsql"}]
        self.service = gcp.cloudrunv2.Service(
            name,
            project=project,
            location=region,
            name=name,
            ingress=PUBLIC if public else INTERNAL,
            deletion_protection=False,
            labels=ownership.with_public(public),
            template={
                "service_account": self.account.email,
                "scaling": {
                    "min_instance_count": min_instances,
                    "max_instance_count": max_instances,
                },
                "containers": [container],
                "volumes": volumes,
                "labels": ownership.labels,
            },
            # When CI rolls images out by digest, the stack must not roll them back, nor
            # move the traffic a canary release splits between revisions.
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=(
                    ["template.containers[0].image", "traffics"] if image_managed_by_ci else None
                ),
            ),
        )
        for index, member in enumerate(invokers):
            gcp.cloudrunv2.ServiceIamMember(
                f"{name}-invoker-{index}",
                project=project,
                location=region,
                name=self.service.name,
                role="roles/run.invoker",
                member=member,
                opts=child(self),
            )
        self.url = self.service.uri
        self.register_outputs(
            {"url": self.url, "serviceAccount": self.service_account_email, "name": name}
        )
