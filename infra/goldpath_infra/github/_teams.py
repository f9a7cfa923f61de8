from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_github as github

from .._base import child


def closed_team(
    parent: pulumi.Resource, resource_name: str, *, slug: str, description: str,
    members: Sequence[str], member_prefix: str,
) -> github.Team:  # fmt: skip
    """A closed team of the organisation with these members (user names)."""
    team = github.Team(
        resource_name, name=slug, description=description, privacy="closed", opts=child(parent)
    )
    for login in members:
        github.TeamMembership(
            f"{member_prefix}-{login}", team_id=team.id, username=login, role="member",
            opts=child(parent),
        )  # fmt: skip
    return team


def protected_environment(
    parent: pulumi.Resource, resource_name: str, *, repository: str, environment: str,
    approving_team: pulumi.Input[int] | None,
) -> github.RepositoryEnvironment:  # fmt: skip
    """A repository environment that takes deployments from protected branches only, with no
    administrator bypass; with a team, one of its members who did not start the run approves."""
    return github.RepositoryEnvironment(
        resource_name,
        repository=repository,
        environment=environment,
        reviewers=None
        if approving_team is None
        else [github.RepositoryEnvironmentReviewerArgs(teams=[approving_team])],
        prevent_self_review=approving_team is not None,
        can_admins_bypass=False,
        deployment_branch_policy=github.RepositoryEnvironmentDeploymentBranchPolicyArgs(
            protected_branches=True, custom_branch_policies=False
        ),
        opts=child(parent),
    )
