from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_gitlab as gitlab

from .._base import child
from .._governance import SETTING, governance_setting

# The generated pipeline's protected environments: promotion, and the two a deploy waits in.
PROMOTION = "model-promotion"
GATED = ("staging", "prod")


class PromotionGate(pulumi.ComponentResource):
    """What makes a promotion to @champion, and a deploy past dev, an approved decision on
    GitLab (the same capability as `goldpath_infra.github.PromotionGate`).

    Each ML project's `model-promotion` environment is protected: maintainers run its job,
    and it waits for an approval from the model-validation group, which the promote job
    reads from GitLab's deployments API as its approver and reason. `staging` and `prod`
    wait for an approval from the deployment approvers' group. The default branch takes
    changes only through a merge request a code owner approved, approvals reset on a new
    push, and neither its author nor its committers may approve it; nobody pushes to it or
    rewrites it. The group-level CI/CD variable GOLDPATH_GOVERNANCE carries the validators
    and the e-mail -> user mapping to goldpath-runtime.
    """

    def __init__(
        self,
        name: str,
        *,
        group: str,
        projects: Sequence[str],
        validation_group_id: int,
        deployment_approvers_group_id: int,
        validators: Sequence[str],
        identities: Mapping[str, str],
        default_branch: str = "main",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:gitlab:PromotionGate", name, None, opts)
        self.setting = gitlab.GroupVariable(
            f"{name}-governance",
            group=group,
            key=SETTING,
            value=governance_setting(validators, identities),
            protected=True,  # protected branches' pipelines only
            raw=True,  # never expanded: it is JSON, not a command line
            opts=child(self),
        )
        approvers = {PROMOTION: validation_group_id} | dict.fromkeys(
            GATED, deployment_approvers_group_id
        )
        self.environments = [
            gitlab.ProjectProtectedEnvironment(
                f"{name}-{project}-{environment}",
                project=project,
                environment=environment,
                deploy_access_levels_attributes=[
                    gitlab.ProjectProtectedEnvironmentDeployAccessLevelsAttributeArgs(
                        access_level="maintainer"
                    )
                ],
                approval_rules=[
                    gitlab.ProjectProtectedEnvironmentApprovalRuleArgs(
                        group_id=approver, required_approvals=1
                    )
                ],
                opts=child(self),
            )
            for project in projects
            for environment, approver in approvers.items()
        ]
        self.branches = [
            gitlab.BranchProtection(
                f"{name}-{project}-default-branch",
                project=project,
                branch=default_branch,
                push_access_level="no one",
                merge_access_level="maintainer",
                allow_force_push=False,
                code_owner_approval_required=True,
                opts=child(self),
            )
            for project in projects
        ]
        self.approvals = [
            gitlab.ProjectLevelMrApprovals(
                f"{name}-{project}-approvals",
                project=project,
                reset_approvals_on_push=True,
                merge_requests_author_approval=False,
                merge_requests_disable_committers_approval=True,
                disable_overriding_approvers_per_merge_request=True,
                opts=child(self),
            )
            for project in projects
        ]
        self.register_outputs({"setting": SETTING})
