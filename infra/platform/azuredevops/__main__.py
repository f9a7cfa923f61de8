"""Azure DevOps platform stack: each ML service's model-promotion environment with its
approval check (the model-validation group, never the requester) and the variable group
goldpath-governance (GOLDPATH_GOVERNANCE) that high-tier promotions link; with
`platformReleases`, the required-template checks that make goldpath's pipeline the way each
service deploys (PlatformStages). One stack per Azure DevOps project."""

from goldpath_infra import ConfigError, StackConfig
from goldpath_infra._governance import read_people
from goldpath_infra.azuredevops import PlatformStages, PromotionGate

UUID = r"[0-9a-f-]{36}"

config = StackConfig()
validators, identities = read_people(config)
project_id = config.text("projectId", pattern=UUID, example="00000000-1111-2222-3333-444444444444")
services = config.strings("services", pattern=r"[a-z][a-z0-9-]{1,40}")
PromotionGate(
    "goldpath",
    project_id=project_id,
    services=services,
    approver_group_ids=config.strings("validationGroupIds", pattern=UUID),
    validators=validators,
    identities=identities,
)

# Enforcement (#30): goldpath's releases (tags) whose pipeline template services may extend.
releases = config.strings("platformReleases", required=False, pattern=r"refs/tags/v[\w.-]{1,60}")
if releases:
    connections = config.structured("serviceConnectionIds") or {}
    if not isinstance(connections, dict) or any(
        not isinstance(connections.get(s), str) for s in services
    ):
        raise ConfigError(
            f"configuration {config.namespace}:serviceConnectionIds must map every service to"
            " its service connection's id; set it with `pulumi config set --path"
            f" '{config.namespace}:serviceConnectionIds.<service>' <id>`"
        )
    PlatformStages(
        "goldpath",
        project_id=project_id,
        services=services,
        repository_type=config.text(
            "platformRepositoryType", default="azuregit", choices=["azuregit", "github"]
        ),
        repository_name=config.text(
            "platformRepository", pattern=r"[\w.-]+/[\w.-]+", example="ml-platform/goldpath"
        ),
        releases=releases,
        approver_group_ids=config.strings("releaseApproverGroupIds", pattern=UUID),
        service_connections={s: str(connections[s]) for s in services},
    )
