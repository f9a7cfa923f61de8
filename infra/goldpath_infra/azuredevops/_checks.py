from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_azuredevops as azuredevops

from .._base import child


def approval(
    parent: pulumi.Resource,
    resource_name: str,
    *,
    project_id: pulumi.Input[str],
    environment: azuredevops.Environment,
    approver_group_ids: Sequence[str],
    instructions: str,
    timeout_minutes: int,
) -> azuredevops.CheckApproval:
    """One approver from the groups, never the person who queued the run."""
    return azuredevops.CheckApproval(
        resource_name,
        project_id=project_id,
        target_resource_id=environment.id,
        target_resource_type="environment",
        approvers=list(approver_group_ids),
        minimum_required_approvers=1,
        requester_can_approve=False,
        instructions=instructions,
        timeout=timeout_minutes,
        opts=child(parent),
    )
