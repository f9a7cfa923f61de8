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
