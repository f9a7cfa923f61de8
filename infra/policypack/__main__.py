"""Entry point for `pulumi preview --policy-pack infra/policypack`."""

from pulumi_policy import EnforcementLevel, PolicyPack

from goldpath_infra.policies import POLICIES

PolicyPack(name="goldpath", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
