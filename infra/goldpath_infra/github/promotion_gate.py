from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_github as github

from .._base import child
from .._governance import SETTING, governance_setting
from ._teams import closed_team, protected_environment

# Jobs every generated project's ci.yml has, whatever its answers (their `name:`).
REQUIRED_CHECKS = ("Lint and type-check", "Test")


class PromotionGate(pulumi.ComponentResource):
    """What makes a promotion to @champion a decision of the model-validation group.

    The group is a GitHub team whose members are the platform's validators. Each ML
    repository's `model-promotion` environment requires one of them to approve, never the
    person who started the run, with no bypass for administrators, from protected branches
    only; the promote job reads that approval as its approver and reason. The organisation
    variable GOLDPATH_GOVERNANCE carries the same validators and the e-mail -> user mapping
    to goldpath-runtime, which refuses a high-tier validator outside the group. The
    default branch of each repository takes changes only through a reviewed pull request
    (a code owner's review, stale reviews dismissed, the last push approved by someone
    else) whose CI checks passed, never by force-push or deletion.
    """

    def __init__(
        self,
        name: str,
        *,
        repositories: Sequence[str],
        validators: Sequence[str],
        identities: Mapping[str, str],
        environment: str = "model-promotion",
        required_checks: Sequence[str] = REQUIRED_CHECKS,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:github:PromotionGate", name, None, opts)
        self.team = closed_team(
            self, f"{name}-validators", slug="model-validation",
            description="Validates models before @champion moves (goldpath)",
            members=[v for v in validators if "@" not in v], member_prefix=f"{name}-validator",
        )  # fmt: skip
        team_id = self.team.id.apply(int)
        self.environments = [
            protected_environment(
                self,
                f"{name}-{repository}",
                repository=repository,
                environment=environment,
                approving_team=team_id,
            )
            for repository in repositories
        ]
        # The default branch takes changes only through a reviewed pull request whose
        # checks passed: the promote job trusts what is on it.
        self.rulesets = [
            github.RepositoryRuleset(
                f"{name}-{repository}-default-branch",
                repository=repository,
                name="goldpath: reviewed and green",
                target="branch",
                enforcement="active",
                conditions=github.RepositoryRulesetConditionsArgs(
                    ref_name=github.RepositoryRulesetConditionsRefNameArgs(
                        includes=["~DEFAULT_BRANCH"], excludes=[]
                    )
                ),
                rules=github.RepositoryRulesetRulesArgs(
                    deletion=True,
                    non_fast_forward=True,
                    pull_request=github.RepositoryRulesetRulesPullRequestArgs(
                        required_approving_review_count=1,
                        require_code_owner_review=True,
                        require_last_push_approval=True,
                        dismiss_stale_reviews_on_push=True,
                    ),
                    required_status_checks=github.RepositoryRulesetRulesRequiredStatusChecksArgs(
                        required_checks=[
                            github.RepositoryRulesetRulesRequiredStatusChecksRequiredCheckArgs(
                                context=check
                            )
                            for check in required_checks
                        ],
                        strict_required_status_checks_policy=True,
                    ),
                ),
                opts=child(self),
            )
            for repository in repositories
        ]
        self.setting = github.ActionsOrganizationVariable(
            f"{name}-setting",
            variable_name=SETTING,
            visibility="all",
            value=governance_setting(validators, identities),
            opts=child(self),
        )
        self.register_outputs(
            {"validationTeamId": self.team.id, "repositories": list(repositories)}
        )
