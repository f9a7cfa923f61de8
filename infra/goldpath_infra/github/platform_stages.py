from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_github as github

from .._base import child
from ._teams import closed_team, protected_environment

# The organisation variable the required stages check reads (.github/workflows/stages-check.yml).
STAGES_VARIABLE = "GOLDPATH_DEPLOY_STAGES"
CHECK_WORKFLOW = ".github/workflows/stages-check.yml"
DEPLOY_ENVIRONMENTS = ("dev", "staging", "prod")
APPROVED_ENVIRONMENTS = ("staging", "prod")


class PlatformStages(pulumi.ComponentResource):
    """What makes the platform's deploy stage the way every ML repository deploys (#30).

    - The goldpath repository shares its workflows with the organisation's repositories,
      so private projects can call its deploy stage.
    - Each ML repository's `dev`, `staging` and `prod` environments take deployments from
      protected branches only; staging and prod wait for a release approver who is not the
      person who started the run, with no bypass for administrators.
    - An organisation ruleset requires the platform's stages check on each ML repository's
      default branch: a pull request whose workflows deploy other than through an approved
      stage (the organisation variable GOLDPATH_DEPLOY_STAGES) cannot merge.

    The cloud holds the line too: with the same stages, the GCP platform stack's deployer
    trusts no other job (`CiIdentity(deploy_stages=...)`).
    """

    def __init__(
        self,
        name: str,
        *,
        owner: str,
        platform_repository: str,
        repositories: Sequence[str],
        stages: Sequence[str],
        approvers: Sequence[str],
        check_ref: str = "refs/heads/main",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:github:PlatformStages", name, None, opts)
        self.sharing = github.ActionsRepositoryAccessLevel(
            f"{name}-share-workflows",
            repository=platform_repository,
            access_level="organization",
            opts=child(self),
        )
        self.team = closed_team(
            self, f"{name}-release-approvers", slug="ml-release-approvers",
            description="Approve deployments to staging and prod (goldpath)",
            members=approvers, member_prefix=f"{name}-approver",
        )  # fmt: skip
        team_id = self.team.id.apply(int)
        self.environments = [
            protected_environment(
                self,
                f"{name}-{repository}-{environment}",
                repository=repository,
                environment=environment,
                approving_team=team_id if environment in APPROVED_ENVIRONMENTS else None,
            )
            for repository in repositories
            for environment in DEPLOY_ENVIRONMENTS
        ]
        self.setting = github.ActionsOrganizationVariable(
            f"{name}-stages",
            variable_name=STAGES_VARIABLE,
            visibility="all",
            value="\n".join(stages),
            opts=child(self),
        )
        platform = github.get_repository_output(full_name=f"{owner}/{platform_repository}")
        self.ruleset = github.OrganizationRuleset(
            f"{name}-stages-check",
            name="goldpath: deploys run the platform's stage",
            target="branch",
            enforcement="active",
            conditions=github.OrganizationRulesetConditionsArgs(
                ref_name=github.OrganizationRulesetConditionsRefNameArgs(
                    includes=["~DEFAULT_BRANCH"], excludes=[]
                ),
                repository_name=github.OrganizationRulesetConditionsRepositoryNameArgs(
                    includes=list(repositories), excludes=[]
                ),
            ),
            rules=github.OrganizationRulesetRulesArgs(
                required_workflows=github.OrganizationRulesetRulesRequiredWorkflowsArgs(
                    required_workflows=[
                        github.OrganizationRulesetRulesRequiredWorkflowsRequiredWorkflowArgs(
                            repository_id=platform.repo_id,
                            path=CHECK_WORKFLOW,
                            ref=check_ref,
                        )
                    ],
                ),
            ),
            opts=child(self),
        )
        self.register_outputs({"releaseApproversTeamId": self.team.id, "stages": list(stages)})
