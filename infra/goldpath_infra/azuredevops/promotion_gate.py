from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_azuredevops as azuredevops

from .._base import child
from .._governance import SETTING, governance_setting
from ._checks import approval

GROUP = "goldpath-governance"  # the variable group high-tier train pipelines link


class PromotionGate(pulumi.ComponentResource):
    """What makes a promotion to @champion a decision of the model-validation group.

    Each service's `<service>-model-promotion` environment gets an approval check: one
    approver from the validation group (an Entra or Azure DevOps group, by origin id), never
    the person who queued the run. The variable group goldpath-governance carries the
    validators and the e-mail -> user mapping to goldpath-runtime as GOLDPATH_GOVERNANCE.
    A promotion runs only from main (a branch-control check that verifies its protection),
    and main in every repository of the project takes changes only through a pull request
    approved by someone other than its last pusher.
    """

    def __init__(
        self,
        name: str,
        *,
        project_id: pulumi.Input[str],
        services: Sequence[str],
        approver_group_ids: Sequence[str],
        validators: Sequence[str],
        identities: Mapping[str, str],
        timeout_minutes: int = 7 * 24 * 60,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:azuredevops:PromotionGate", name, None, opts)
        self.environments: list[azuredevops.Environment] = []
        for service in services:
            environment = azuredevops.Environment(
                f"{name}-{service}",
                project_id=project_id,
                name=f"{service}-model-promotion",
                description="Promotions of @champion: the model-validation group approves",
                opts=child(self),
            )
            approval(
                self, f"{name}-{service}-approval", project_id=project_id,
                environment=environment, approver_group_ids=approver_group_ids,
                instructions="Approve only a version you validated; your approval is recorded "
                "as the promotion's validator.",
                timeout_minutes=timeout_minutes,
            )  # fmt: skip
            azuredevops.CheckBranchControl(
                f"{name}-{service}-branch",
                project_id=project_id,
                target_resource_id=environment.id,
                target_resource_type="environment",
                display_name="Promotions run from the protected main branch only",
                allowed_branches="refs/heads/main",
                verify_branch_protection=True,
                ignore_unknown_protection_status=False,
                opts=child(self),
            )
            self.environments.append(environment)
        # Main takes changes only through a pull request someone other than its last
        # pusher approved: what the promotion runs from was reviewed.
        azuredevops.BranchPolicyMinReviewers(
            f"{name}-reviewed-main",
            project_id=project_id,
            enabled=True,
            blocking=True,
            settings=azuredevops.BranchPolicyMinReviewersSettingsArgs(
                reviewer_count=1,
                submitter_can_vote=False,
                last_pusher_cannot_approve=True,
                on_push_reset_approved_votes=True,
                scopes=[
                    azuredevops.BranchPolicyMinReviewersSettingsScopeArgs(
                        repository_ref="refs/heads/main", match_type="Exact"
                    )
                ],
            ),
            opts=child(self),
        )
        self.variables = azuredevops.VariableGroup(
            f"{name}-setting",
            project_id=project_id,
            name=GROUP,
            description="The platform's model-validation group (goldpath); not a project's",
            allow_access=True,
            variables=[
                azuredevops.VariableGroupVariableArgs(
                    name=SETTING, value=governance_setting(validators, identities)
                )
            ],
            opts=child(self),
        )
        self.register_outputs({"variableGroupId": self.variables.id, "services": list(services)})
