"""GitHub platform stack: the model-validation team, each ML repository's model-promotion
environment (its reviewers, no self-review, no admin bypass) and the organisation
variable GOLDPATH_GOVERNANCE that promotions read. One stack per GitHub organisation."""

from goldpath_infra import StackConfig
from goldpath_infra._governance import one_owner, read_people
from goldpath_infra.github import PromotionGate

config = StackConfig()
owner = StackConfig("github").text("owner", pattern=r"[A-Za-z0-9-]{1,39}", example="acme-bank")
repositories = config.strings("githubRepositories", pattern=r"[\w.-]+/[\w.-]+")
one_owner(config, "githubRepositories", repositories, owner, "the organisation github:owner")
validators, identities = read_people(config)
PromotionGate(
    "goldpath",
    repositories=[r.split("/")[1] for r in repositories],
    validators=validators,
    identities=identities,
)
