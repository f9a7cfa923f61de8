"""GitHub platform stack: the model-validation team, each ML repository's model-promotion
environment (its reviewers, no self-review, no admin bypass) and the organisation
variable GOLDPATH_GOVERNANCE that promotions read. One stack per GitHub organisation."""

from goldpath_infra import ConfigError, StackConfig
from goldpath_infra._governance import read_people
from goldpath_infra.github import PromotionGate

config = StackConfig()
owner = StackConfig("github").text("owner", pattern=r"[A-Za-z0-9-]{1,39}", example="acme-bank")
repositories = config.strings("githubRepositories", pattern=r"[\w.-]+/[\w.-]+")
outside = [r for r in repositories if r.split("/")[0] != owner]
if outside:
    raise ConfigError(
        f"configuration {config.namespace}:githubRepositories has {outside[0]!r}, outside "
        f"the organisation github:owner {owner!r}: one stack per organisation"
    )
validators, identities = read_people(config)
PromotionGate(
    "goldpath",
    repositories=[r.split("/")[1] for r in repositories],
    validators=validators,
    identities=identities,
)
