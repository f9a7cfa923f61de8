"""goldpath's Pulumi components: one ComponentResource per capability, for GCP and Azure.

`goldpath_infra.gcp` and `goldpath_infra.azure` hold the components; `policies` the
security rules run by `pulumi preview --policy-pack` and by the offline tests;
`testing` the mock harness that runs a whole program without the Pulumi engine.
"""

from ._base import (
    DEPLOY_STAGE,
    ENVIRONMENTS,
    GITLAB_ISSUER,
    ConfigError,
    Ownership,
    StackConfig,
    github_issuer,
)
from ._service import JobConfig, ServiceConfig, current_environment, platform_stack

__all__ = [
    "DEPLOY_STAGE",
    "ENVIRONMENTS",
    "GITLAB_ISSUER",
    "ConfigError",
    "JobConfig",
    "Ownership",
    "ServiceConfig",
    "StackConfig",
    "current_environment",
    "github_issuer",
    "platform_stack",
]
