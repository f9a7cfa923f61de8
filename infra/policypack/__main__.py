"""Entry point for `pulumi preview --policy-pack infra/policypack`."""

from goldpath_infra.policies import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name="goldpath", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
