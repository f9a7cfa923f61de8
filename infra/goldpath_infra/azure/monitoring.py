from __future__ import annotations

import pulumi
from pulumi_azure_native import monitor

from .._base import Ownership, child


class Monitoring(pulumi.ComponentResource):
    """An action group emailing the owning team, and metric alerts on a Container App's
    5xx responses and response time when `app_id` is given."""

    action_group_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        resource_group_name: pulumi.Input[str],
        ownership: Ownership,
        email: str,
        app_id: pulumi.Input[str] | None = None,
        error_count: float = 25,
        response_time_ms: float = 500,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:azure:Monitoring", name, None, opts)
        self.action_group = monitor.ActionGroup(
            f"{name}-team",
            resource_group_name=resource_group_name,
            location="global",
            group_short_name=ownership.owner[:12],
            enabled=True,
            email_receivers=[
                {"name": ownership.owner, "email_address": email, "use_common_alert_schema": True}
            ],
            tags=ownership.labels,
            opts=child(self),
        )
        self.action_group_id = self.action_group.id
        if app_id is not None:
            for alert_name, metric, threshold, aggregation, dimensions in (
                ("5xx", "Requests", error_count, "Total",
                 [monitor.MetricDimensionArgs(
                     name="statusCodeCategory", operator="Include", values=["5xx"])]),
                ("latency", "ResponseTime", response_time_ms, "Average", []),
            ):  # fmt: skip
                monitor.MetricAlert(
                    f"{name}-{alert_name}",
                    resource_group_name=resource_group_name,
                    location="global",
                    description=f"{metric} {alert_name} for {ownership.project} ({ownership.env})",
                    severity=2,
                    enabled=True,
                    scopes=[app_id],
                    evaluation_frequency="PT1M",
                    window_size="PT5M",
                    # `criteria` is a union type: plain dicts would reach Azure with
                    # snake_case keys, so the typed Args classes are required here.
                    criteria=monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                        odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                        all_of=[
                            monitor.MetricCriteriaArgs(
                                criterion_type="StaticThresholdCriterion",
                                name=alert_name,
                                metric_name=metric,
                                operator="GreaterThan",
                                threshold=threshold,
                                time_aggregation=aggregation,
                                dimensions=dimensions,
                            )
                        ],
                    ),
                    actions=[{"action_group_id": self.action_group.id}],
                    tags=ownership.labels,
                    opts=child(self),
                )
        self.register_outputs({"actionGroupId": self.action_group_id})
