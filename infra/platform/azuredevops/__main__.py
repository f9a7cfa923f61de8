"""Azure DevOps platform stack: each ML service's model-promotion environment with its
approval check (the model-validation group, never the requester) and the variable group
goldpath-governance (GOLDPATH_GOVERNANCE) that high-tier promotions link. One stack per
Azure DevOps project."""

from goldpath_infra import StackConfig
from goldpath_infra._governance import read_people
from goldpath_infra.azuredevops import PromotionGate

config = StackConfig()
validators, identities = read_people(config)
PromotionGate(
    "goldpath",
    project_id=config.text(
        "projectId", pattern=r"[0-9a-f-]{36}", example="00000000-1111-2222-3333-444444444444"
    ),
    services=config.strings("services", pattern=r"[a-z][a-z0-9-]{1,40}"),
    approver_group_ids=config.strings("validationGroupIds", pattern=r"[0-9a-f-]{36}"),
    validators=validators,
    identities=identities,
)
