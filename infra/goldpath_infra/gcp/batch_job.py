from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_gcp as gcp

from .._base import Ownership, child


class BatchJob(pulumi.ComponentResource):
    """A Cloud Run job (no ingress: nothing can call it) with its own service account,
    run on demand (CI's smoke run, or by hand) or on a Cloud Scheduler cron whose own
    service account may only run this job."""

    service_account_email: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        project: pulumi.Input[str],
        region: pulumi.Input[str],
        image: pulumi.Input[str],
        ownership: Ownership,
        args: Sequence[str],
        schedule: str | None = None,
        cpu: str = "1",
        memory: str = "2Gi",
        timeout_s: int = 3600,
        env: Mapping[str, pulumi.Input[str]] | None = None,
        runners: Sequence[pulumi.Input[str]] = (),
        image_managed_by_ci: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:gcp:BatchJob", name, None, opts)
        self.account = gcp.serviceaccount.Account(
            f"{name}-sa",
            project=project,
            account_id=f"{name}-job"[:30],
            display_name=f"Cloud Run job {name}",
            opts=child(self),
        )
        self.service_account_email = self.account.email
        self.job = gcp.cloudrunv2.Job(
            name,
            project=project,
            location=region,
            name=name,
            deletion_protection=False,
            labels=ownership.labels,
            template={
                "labels": ownership.labels,
                "task_count": 1,
                "template": {
                    "service_account": self.account.email,
                    "max_retries": 0,
                    "timeout": f"{timeout_s}s",
                    "containers": [
                        {
                            "image": image,
                            "args": list(args),
                            "resources": {"limits": {"cpu": cpu, "memory": memory}},
                            "envs": [{"name": k, "value": v} for k, v in (env or {}).items()],
                        }
                    ],
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=(
                    ["template.template.containers[0].image"] if image_managed_by_ci else None
                ),
            ),
        )
        # Who may start an execution: CI's deployer (smoke run) and, with a schedule, the
        # scheduler's own account. roles/run.invoker on this job only.
        invokers = list(runners)
        if schedule is not None:
            scheduler = gcp.serviceaccount.Account(
                f"{name}-cron",
                project=project,
                account_id=f"{name}-cron"[:30],
                display_name=f"Scheduler of {name}",
                opts=child(self),
            )
            invokers.append(scheduler.email.apply(lambda e: f"serviceAccount:{e}"))
            gcp.cloudscheduler.Job(
                f"{name}-schedule",
                project=project,
                region=region,
                schedule=schedule,
                time_zone="Etc/UTC",
                http_target={
                    "http_method": "POST",
                    "uri": pulumi.Output.concat(
                        "https://run.googleapis.com/v2/projects/",
                        project,
                        "/locations/",
                        region,
                        "/jobs/",
                        name,
                        ":run",
                    ),
                    "oauth_token": {"service_account_email": scheduler.email},
                },
                opts=child(self),
            )
        for index, member in enumerate(invokers):
            gcp.cloudrunv2.JobIamMember(
                f"{name}-runner-{index}",
                project=project,
                location=region,
                name=self.job.name,
                role="roles/run.invoker",
                member=member,
                opts=child(self),
            )
        self.register_outputs({"name": name, "serviceAccount": self.service_account_email})
