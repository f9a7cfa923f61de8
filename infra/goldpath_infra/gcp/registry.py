from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from .._base import Ownership, child


class ContainerRegistry(pulumi.ComponentResource):
    """A Docker repository in Artifact Registry. Tags are immutable, so a digest deployed
    to prod can never be silently replaced; untagged images expire after `untagged_days`
    while the newest `keep_recent` versions are always kept (rollback targets)."""

    url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        project: str,
        location: str,
        ownership: Ownership,
        untagged_days: int = 30,
        keep_recent: int = 20,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:gcp:ContainerRegistry", name, None, opts)
        self.repository = gcp.artifactregistry.Repository(
            name,
            project=project,
            location=location,
            repository_id=name,
            format="DOCKER",
            description=f"Container images of {ownership.project} ({ownership.env})",
            docker_config={"immutable_tags": True},
            cleanup_policies=[
                {
                    "id": "delete-untagged",
                    "action": "DELETE",
                    "condition": {
                        "tag_state": "UNTAGGED",
                        "older_than": f"{untagged_days * 86400}s",
                    },
                },
                {
                    "id": "keep-recent",
                    "action": "KEEP",
                    "most_recent_versions": {"keep_count": keep_recent},
                },
            ],
            labels=ownership.labels,
            opts=child(self),
        )
        self.url = pulumi.Output.concat(
            location, "-docker.pkg.dev/", project, "/", self.repository.repository_id
        )
        self.register_outputs({"url": self.url, "repository": self.repository.id})
