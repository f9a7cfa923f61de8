"""Azure platform stack: the registry, Azure ML model registry, optional Databricks
workspace, keyless CI identity and alerts that every ML project in this environment
shares. Stack name = environment (dev, prod)."""

import pulumi
from pulumi_azure_native import authorization, resources

from goldpath_infra import (
    ENVIRONMENTS,
    GITLAB_ISSUER,
    ConfigError,
    Ownership,
    StackConfig,
    github_issuer,
)
from goldpath_infra.azure import (
    CiIdentity,
    ContainerRegistry,
    DatabricksWorkspace,
    ModelRegistry,
    Monitoring,
)

env = pulumi.get_stack()
if env not in ENVIRONMENTS:
    raise ConfigError(f"stack {env!r} is not an environment: name it one of {list(ENVIRONMENTS)}")
config = StackConfig()
location = StackConfig("azure-native").text("location", pattern=r"[a-z0-9]+", example="uksouth")
ownership = Ownership(
    owner=config.text("owner", default="ml-platform", pattern=r"[a-z][a-z0-9-]{1,62}"),
    project="goldpath-platform",
    env=env,
)
prefix = config.text("namePrefix", pattern=r"[a-z][a-z0-9]{2,11}", example="acmeml")
repositories = config.strings("githubRepositories", required=False, pattern=r"[\w.-]+/[\w.-]+")
# GitLab projects ("group/subgroup/project") whose pipelines may act as the CI identity.
gitlab_projects = config.strings("gitlabProjects", required=False, pattern=r"[\w.-]+(/[\w.-]+)+")
gitlab_issuer = config.text(
    "gitlabIssuer", default=GITLAB_ISSUER, pattern=r"https://[\w.-]+(:\d+)?"
)
ado_org = config.optional("azureDevOpsOrganizationId")
ado_connections = config.strings("azureDevOpsConnections", required=False, pattern=r"sc://.+/.+/.+")
alert_email = config.text(
    "alertEmail", pattern=r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", example="team@bank.example"
)
with_databricks = config.boolean("databricks", default=True)

client = authorization.get_client_config_output()
platform_group = resources.ResourceGroup(
    "platform", resource_group_name=f"{prefix}-ml-platform-{env}", location=location,
    tags=ownership.labels,
)  # fmt: skip
# Project services live in their own group, so CI's deploy right stops at its edge.
serving_group = resources.ResourceGroup(
    "serving", resource_group_name=f"{prefix}-ml-serving-{env}", location=location,
    tags=ownership.labels,
)  # fmt: skip

registry = ContainerRegistry(
    f"{prefix}{env}acr",
    resource_group_name=platform_group.name,
    location=location,
    ownership=ownership,
    sku="Premium" if env == "prod" else "Standard",
)
model_registry = ModelRegistry(
    f"{prefix}-mlflow-{env}",
    resource_group_name=platform_group.name,
    location=location,
    tenant_id=client.tenant_id,
    subscription_id=client.subscription_id,
    container_registry_id=registry.registry_id,
    # People read the registry; only the CI identity writes (README: who may move @champion).
    readers=config.strings("registryReaderGroupIds", required=False, pattern=r"[0-9a-f-]{36}"),
    ownership=ownership,
)
ci = CiIdentity(
    f"{prefix}-ci-{env}",
    resource_group_name=platform_group.name,
    location=location,
    subscription_id=client.subscription_id,
    github_repositories=repositories,
    github_issuer=github_issuer(config),
    gitlab_projects=gitlab_projects,
    gitlab_issuer=gitlab_issuer,
    azure_devops=[(f"https://vstoken.dev.azure.com/{ado_org}", c) for c in ado_connections]
    if ado_org
    else [],
    registry_id=registry.registry_id,
    deploy_scope=serving_group.id,
    model_registry_id=model_registry.workspace_id,
    ownership=ownership,
)
Monitoring(
    f"{prefix}-alerts-{env}",
    resource_group_name=platform_group.name,
    ownership=ownership,
    email=alert_email,
)
if with_databricks:
    databricks = DatabricksWorkspace(
        f"{prefix}-dbw-{env}",
        resource_group_name=platform_group.name,
        location=location,
        subscription_id=client.subscription_id,
        ownership=ownership,
    )
    pulumi.export("databricksHost", databricks.url)

# Exactly what the generated pipelines read (see a generated project's README).
pulumi.export("imageRegistry", registry.login_server)
pulumi.export("ciClientId", ci.client_id)
pulumi.export("tenantId", client.tenant_id)
pulumi.export("subscriptionId", client.subscription_id)
pulumi.export("resourceGroup", serving_group.name)
pulumi.export("mlflowTrackingUri", model_registry.tracking_uri)
# Read by each project's service stack (StackReference), not by pipelines.
pulumi.export("registryId", registry.registry_id)
pulumi.export("location", location)
# An LLM service stack lets the CI identity call dev's model (the evaluation gate on main).
pulumi.export("ciPrincipalId", ci.principal_id)
