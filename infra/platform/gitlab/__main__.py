"""GitLab platform stack: each ML project's protected environments (model-promotion
approved by the model-validation group, staging and prod by the deployment approvers), its
default branch's protection and merge-request approvals, and the group-level CI/CD variable
GOLDPATH_GOVERNANCE that promotions read. One stack per top-level group."""

from goldpath_infra import StackConfig
from goldpath_infra._governance import one_owner, read_people
from goldpath_infra.gitlab import PromotionGate

config = StackConfig()
group = config.text("group", pattern=r"[\w.-]+", example="acme-bank")
projects = config.strings("gitlabProjects", pattern=r"[\w.-]+(/[\w.-]+)+")
one_owner(config, "gitlabProjects", projects, group, f"the group {config.namespace}:group")
validators, identities = read_people(config)
PromotionGate(
    "goldpath",
    group=group,
    projects=projects,
    validation_group_id=int(config.text("validationGroupId", pattern=r"\d{1,12}", example="4242")),
    deployment_approvers_group_id=int(
        config.text("deploymentApproversGroupId", pattern=r"\d{1,12}", example="4243")
    ),
    validators=validators,
    identities=identities,
)
