from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from .._base import Ownership, child


class Monitoring(pulumi.ComponentResource):
    """Alerts on the 5xx rate and the p99 latency of Cloud Run services, to an email
    channel. Thresholds are arguments so each stack can set its own from config."""

    def __init__(
        self,
        name: str,
        *,
        project: pulumi.Input[str],
        ownership: Ownership,
        email: str,
        service_name: str | None = None,
        error_rate_per_s: float = 0.5,
        p99_latency_ms: float = 500.0,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:gcp:Monitoring", name, None, opts)
        self.channel = gcp.monitoring.NotificationChannel(
            f"{name}-email",
            project=project,
            display_name=f"{ownership.owner} ({ownership.env})",
            type="email",
            labels={"email_address": email},
            user_labels=ownership.labels,
            opts=child(self),
        )
        scope = 'resource.type = "cloud_run_revision"'
        if service_name:
            scope += f' AND resource.labels.service_name = "{service_name}"'
        metric = scope + ' AND metric.type = "run.googleapis.com/'
        conditions = {
            "5xx": ("5xx responses per second", metric + 'request_count"'
                    ' AND metric.labels.response_code_class = "5xx"',
                    error_rate_per_s, "ALIGN_RATE"),
            "latency": ("p99 request latency", metric + 'request_latencies"',
                        p99_latency_ms, "ALIGN_PERCENTILE_99"),
        }  # fmt: skip
        self.policies = [
            gcp.monitoring.AlertPolicy(
                f"{name}-{key}",
                project=project,
                display_name=f"{service_name or 'Cloud Run'} {title} ({ownership.env})",
                combiner="OR",
                conditions=[
                    {
                        "display_name": title,
                        "condition_threshold": {
                            "filter": query,
                            "comparison": "COMPARISON_GT",
                            "threshold_value": threshold,
                            "duration": "300s",
                            "aggregations": [
                                {"alignment_period": "60s", "per_series_aligner": aligner}
                            ],
                        },
                    }
                ],
                notification_channels=[self.channel.name],
                user_labels=ownership.labels,
                opts=child(self),
            )
            for key, (title, query, threshold, aligner) in conditions.items()
        ]
        self.register_outputs({"channel": self.channel.name})
