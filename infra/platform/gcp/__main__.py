"""GCP platform stack: the registry, model registry, keyless CI identity and alerts that
every ML project in this environment shares. Stack name = environment (dev, prod)."""

import pulumi

from goldpath_infra import (
    DEPLOY_STAGE,
    ENVIRONMENTS,
    GITLAB_ISSUER,
    ConfigError,
    Ownership,
    StackConfig,
    github_issuer,
)
from goldpath_infra.gcp import (
    CiIdentity,
    ContainerRegistry,
    ModelRegistry,
    Monitoring,
    RequiredApis,
)

env = pulumi.get_stack()
if env not in ENVIRONMENTS:
    raise ConfigError(f"stack {env!r} is not an environment: name it one of {list(ENVIRONMENTS)}")
gcp_config = StackConfig("gcp")
config = StackConfig()
project = gcp_config.text(
    "project", pattern=r"[a-z][a-z0-9-]{4,28}[a-z0-9]", example="my-ml-project"
)
region = gcp_config.text("region", pattern=r"[a-z]+-[a-z]+\d", example="europe-west2")
ownership = Ownership(
    owner=config.text("owner", default="ml-platform", pattern=r"[a-z][a-z0-9-]{1,62}"),
    project="goldpath-platform",
    env=env,
)
repositories = config.strings("githubRepositories", required=False, pattern=r"[\w.-]+/[\w.-]+")
# GitLab projects ("group/subgroup/project") whose pipelines may act as the CI identity.
gitlab_projects = config.strings("gitlabProjects", required=False, pattern=r"[\w.-]+(/[\w.-]+)+")
gitlab_issuer = config.text(
    "gitlabIssuer", default=GITLAB_ISSUER, pattern=r"https://[\w.-]+(:\d+)?"
)
ado_org = config.optional("azureDevOpsOrganizationId")
ado_connections = config.strings("azureDevOpsConnections", required=False, pattern=r"sc://.+/.+/.+")
# Enforcement (#30): the platform's deploy stages at approved commits, the only GitHub jobs
# the deployer trusts (set it in the prod stack; the build job's registry push uses dev's).
deploy_stages = config.strings("deployStages", required=False, pattern=DEPLOY_STAGE)
alert_email = config.text(
    "alertEmail", pattern=r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", example="team@bank.example"
)

apis = RequiredApis("platform", project=project)
after_apis = pulumi.ResourceOptions(depends_on=[apis])
registry = ContainerRegistry(
    "ml-images", project=project, location=region, ownership=ownership, opts=after_apis
)
ci = CiIdentity(
    "goldpath",
    project=project,
    github_repositories=repositories,
    github_issuer=github_issuer(config),
    gitlab_projects=gitlab_projects,
    gitlab_issuer=gitlab_issuer,
    registry_repository=registry.repository.repository_id,
    registry_location=region,
    azure_devops_organization_id=ado_org,
    azure_devops_connections=ado_connections,
    deploy_stages=deploy_stages,
    opts=after_apis,
)
model_registry = ModelRegistry(
    "mlflow",
    project=project,
    region=region,
    ownership=ownership,
    invokers=[ci.trainer_email.apply(lambda e: f"serviceAccount:{e}")],
    database_tier=config.text("databaseTier", default="db-custom-1-3840"),
    mlflow_image=config.text("mlflowImage", default="ghcr.io/mlflow/mlflow:v3.5.0"),
    deletion_protection=env == "prod",
    opts=after_apis,
)
Monitoring(
    "platform",
    project=project,
    ownership=ownership,
    email=alert_email,
    service_name="mlflow-server",
    opts=after_apis,
)

# Exactly what the generated pipelines read (see a generated project's README).
pulumi.export("imageRegistry", registry.url)
pulumi.export("projectId", project)
pulumi.export("region", region)
pulumi.export("workloadIdentityProvider", ci.provider_name)
if ci.gitlab_provider_name is not None:
    pulumi.export("gitlabWorkloadIdentityProvider", ci.gitlab_provider_name)
pulumi.export("deployerServiceAccount", ci.deployer_email)
pulumi.export("trainerServiceAccount", ci.trainer_email)
pulumi.export("mlflowTrackingUri", model_registry.tracking_uri)
