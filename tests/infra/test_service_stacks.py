"""A generated project's own service stack (infra/), for both clouds and every environment
stack file, built under mocks on top of the platform's outputs (a mocked StackReference)."""

from __future__ import annotations

import ast
import inspect
from typing import Any

import pytest
from pulumi import RunError

from goldpath_infra._service import SMOKE_ARGS
from goldpath_infra.azure._roles import COGNITIVE_SERVICES_OPENAI_USER
from goldpath_infra.policies import POLICIES
from goldpath_infra.testing import check_policies, run_program, stack_config

from ..conftest import Render, option_values
from .conftest import assert_component_shape

PLATFORM_OUTPUTS: dict[str, dict[str, Any]] = {
    "gcp": {
        "projectId": "acme-ml-dev",
        "region": "europe-west2",
        "deployerServiceAccount": "goldpath-deployer@acme-ml-dev.iam.gserviceaccount.com",
        "mlflowTrackingUri": "https://mlflow-server-abc-ew.a.run.app",
    },
    "azure": {
        "location": "uksouth",
        "resourceGroup": "acmeml-ml-serving-dev",
        "registryId": "/subscriptions/0/resourceGroups/p/providers/containerregistry/acr",
        "imageRegistry": "acmemldevacr.azurecr.io",
        "mlflowTrackingUri": "azureml://uksouth.api.azureml.ms/mlflow/v1.0/x",
    },
}


def run_service(
    rendered: Render,
    cloud: str,
    env: str,
    config: dict[str, Any] | None = None,
    serving: str = "fastapi",
    **extra: str,
) -> Any:
    program = rendered(cloud=cloud, serving=serving) / "infra"
    config = stack_config(program, env) if config is None else config
    config.update({f"project-service:{k}": v for k, v in extra.items()})
    return run_program(
        program,
        config=config,
        project="project-service",
        stack=env,
        stack_references={f"organization/goldpath-platform-{cloud}/{env}": PLATFORM_OUTPUTS[cloud]},
    )


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_service_stack_builds_privately_with_policies_passing(
    rendered: Render, cloud: str, env: str
) -> None:
    recording = run_service(rendered, cloud, env)
    assert check_policies(recording, POLICIES) == []
    assert_component_shape(recording)
    assert recording.stack_outputs["serviceName"] == f"project-{env}"
    assert recording.stack_outputs["serviceUrl"].startswith("https://")
    expected_min = 1 if env == "prod" else 0
    if cloud == "gcp":
        service = recording.one("gcp:cloudrunv2/service:Service").inputs
        assert service["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
        assert service["project"] == "acme-ml-dev"
        assert service["template"]["scaling"]["minInstanceCount"] == expected_min
        envs = {e["name"]: e.get("value") for e in service["template"]["containers"][0]["envs"]}
        assert envs["MLFLOW_TRACKING_URI"] == PLATFORM_OUTPUTS["gcp"]["mlflowTrackingUri"]
        assert envs["WEB_CONCURRENCY"] == "1"  # 1 vCPU: the worker count follows the limit
        invoker = recording.one("gcp:cloudrunv2/serviceIamMember:ServiceIamMember").inputs
        assert invoker["member"].startswith("serviceAccount:goldpath-deployer@")
        assert len(recording.of_type("gcp:monitoring/alertPolicy:AlertPolicy")) == 2
        # governance.yml's risk tier, from the stack file copier wrote.
        assert service["labels"]["risk-tier"] == "medium"
    else:
        app = recording.one("azure-native:app:ContainerApp").inputs
        assert app["configuration"]["ingress"]["external"] is False
        assert app["resourceGroupName"] == "acmeml-ml-serving-dev"
        assert app["template"]["scale"]["minReplicas"] == expected_min
        assert app["configuration"]["registries"][0]["server"] == "acmemldevacr.azurecr.io"
        container_env = {e["name"]: e.get("value") for e in app["template"]["containers"][0]["env"]}
        assert container_env["WEB_CONCURRENCY"] == "1"  # 0.5 vCPU still runs one worker
        assert len(recording.of_type("azure-native:monitor:MetricAlert")) == 2
        assert app["tags"]["risk-tier"] == "medium"


def test_public_ingress_needs_the_explicit_setting(rendered: Render) -> None:
    program = rendered(cloud="gcp") / "infra"
    config = stack_config(program, "dev")
    config["project-service:allowPublicIngress"] = "true"
    recording = run_service(rendered, "gcp", "dev", config)
    service = recording.one("gcp:cloudrunv2/service:Service").inputs
    assert service["ingress"] == "INGRESS_TRAFFIC_ALL"
    assert check_policies(recording, POLICIES) == []


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("maxInstances", "lots", "project-service:maxInstances is 'lots', not a whole number"),
        ("alertEmail", None, "project-service:alertEmail is missing"),
        ("platformStack", "dev", "project-service:platformStack is 'dev', which is not valid"),
        ("riskTier", "extreme", "project-service:riskTier is 'extreme', not one of"),
    ],
)
def test_bad_service_config_names_the_key(
    rendered: Render, key: str, value: str | None, message: str
) -> None:
    config = stack_config(rendered(cloud="azure") / "infra", "dev")
    if value is None:
        config.pop(f"project-service:{key}")
    else:
        config[f"project-service:{key}"] = value
    with pytest.raises(RunError) as caught:
        run_service(rendered, "azure", "dev", config)
    assert message in str(caught.value)


@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_generated_program_has_no_cloud_branching(rendered: Render, cloud: str) -> None:
    source = (rendered(cloud=cloud) / "infra" / "__main__.py").read_text()
    tree = ast.parse(source)
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.If | ast.IfExp | ast.Match)]
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)] + [
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    ]
    assert all(not part.startswith("_") for name in imported for part in name.split("."))
    assert f"from goldpath_infra.{cloud} import ServiceStack" in source


def test_service_stacks_share_one_call_signature() -> None:
    from goldpath_infra import azure, gcp

    assert inspect.signature(gcp.ServiceStack.__init__) == inspect.signature(
        azure.ServiceStack.__init__
    )


def run_job(rendered: Render, cloud: str, env: str, **extra: str) -> Any:
    return run_service(rendered, cloud, env, serving="none", **extra)


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_batch_only_project_provisions_a_job_and_no_service(
    rendered: Render, cloud: str, env: str
) -> None:
    recording = run_job(rendered, cloud, env)
    assert check_policies(recording, POLICIES) == []
    assert_component_shape(recording)
    assert recording.stack_outputs["jobName"] == f"project-{env}"
    assert "serviceUrl" not in recording.stack_outputs
    if cloud == "gcp":
        assert recording.of_type("gcp:cloudrunv2/service:Service") == []
        job = recording.one("gcp:cloudrunv2/job:Job").inputs
        container = job["template"]["template"]["containers"][0]
        assert container["args"] == list(SMOKE_ARGS)
        assert "ports" not in container
        assert recording.of_type("gcp:cloudscheduler/job:Job") == []  # on demand by default
        runner = recording.one("gcp:cloudrunv2/jobIamMember:JobIamMember").inputs
        assert runner["member"].startswith("serviceAccount:goldpath-deployer@")
    else:
        assert recording.of_type("azure-native:app:ContainerApp") == []
        job = recording.one("azure-native:app:Job").inputs
        assert job["configuration"]["triggerType"] == "Manual"
        assert "ingress" not in job["configuration"]
        assert job["configuration"]["replicaRetryLimit"] == 0


@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_a_scheduled_job_and_a_bad_schedule(rendered: Render, cloud: str) -> None:
    recording = run_job(rendered, cloud, "dev", schedule="0 6 * * 1-5")
    if cloud == "gcp":
        cron = recording.one("gcp:cloudscheduler/job:Job").inputs
        assert cron["schedule"] == "0 6 * * 1-5"
        assert cron["httpTarget"]["uri"].endswith("/jobs/project-dev:run")
        assert len(recording.of_type("gcp:cloudrunv2/jobIamMember:JobIamMember")) == 2
    else:
        job = recording.one("azure-native:app:Job").inputs
        assert job["configuration"]["triggerType"] == "Schedule"
        assert job["configuration"]["scheduleTriggerConfig"]["cronExpression"] == "0 6 * * 1-5"
    with pytest.raises(RunError, match="project-service:schedule"):
        run_job(rendered, cloud, "dev", schedule="every monday")


def run_llm_service(rendered: Render, cloud: str, env: str, **extra: str | None) -> Any:
    program = rendered(cloud=cloud, project_kind="llm") / "infra"
    config = stack_config(program, env)
    for key, value in extra.items():
        if value is None:
            config.pop(f"project-service:{key}")
        else:
            config[f"project-service:{key}"] = value
    return run_program(
        program,
        config=config,
        project="project-service",
        stack=env,
        stack_references={
            f"organization/goldpath-platform-{cloud}/{env}": {
                **PLATFORM_OUTPUTS[cloud],
                "ciPrincipalId": "99999999-0000-0000-0000-000000000000",
                "trainerServiceAccount": "goldpath-trainer@acme-ml-dev.iam.gserviceaccount.com",
            }
        },
    )


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
@pytest.mark.parametrize("cloud", option_values("cloud"))
def test_llm_service_stack_wires_its_keyless_model_endpoint(
    rendered: Render, cloud: str, env: str
) -> None:
    recording = run_llm_service(rendered, cloud, env)
    assert check_policies(recording, POLICIES) == []
    assert_component_shape(recording)
    outputs = recording.stack_outputs
    # The gate on main reads these with `pulumi stack output` (train pipeline).
    assert outputs["provider"] == {"gcp": "vertex", "azure": "azure-openai"}[cloud]
    assert outputs["llmEndpoint"].startswith("https://")
    if cloud == "gcp":
        service = recording.one("gcp:cloudrunv2/service:Service").inputs
        envs = {e["name"]: e.get("value") for e in service["template"]["containers"][0]["envs"]}
        assert envs["PROVIDER"] == "vertex"
        assert envs["VERTEX_PROJECT"] == "acme-ml-dev"
        assert envs["VERTEX_LOCATION"] == "europe-west2"
        assert envs["PROVIDER_MODEL"] == outputs["llmModel"] == "google/gemini-2.0-flash"
        grants = recording.of_type("gcp:projects/iAMMember:IAMMember")
        members = [
            g.inputs["member"] for g in grants if g.inputs["role"] == "roles/aiplatform.user"
        ]
        # The service's own account, and in dev the CI trainer that runs the gate on main.
        assert len(members) == (2 if env == "dev" else 1)
        assert any("goldpath-trainer@" in m for m in members) == (env == "dev")
    else:
        app = recording.one("azure-native:app:ContainerApp").inputs
        container_env = {e["name"]: e.get("value") for e in app["template"]["containers"][0]["env"]}
        account = recording.one("azure-native:cognitiveservices:Account").inputs
        assert account["properties"]["disableLocalAuth"] is True
        assert account["properties"]["publicNetworkAccess"] == (
            "Disabled" if env == "prod" else "Enabled"
        )
        assert container_env["PROVIDER"] == "azure-openai"
        assert (
            container_env["AZURE_OPENAI_ENDPOINT"]
            == outputs["llmEndpoint"]
            == (f"https://project-{env}-ai.openai.azure.com")
        )
        assert container_env["AZURE_CLIENT_ID"]  # DefaultAzureCredential picks the app's identity
        assert container_env["PROVIDER_MODEL"] == "gpt-4o-mini"
        deployment = recording.one("azure-native:cognitiveservices:Deployment").inputs
        assert deployment["sku"]["capacity"] == {"dev": 10, "staging": 30, "prod": 100}[env]
        grants = recording.of_type("azure-native:authorization:RoleAssignment")
        principals = [
            g.inputs["principalId"]
            for g in grants
            if g.inputs["roleDefinitionId"].endswith(COGNITIVE_SERVICES_OPENAI_USER)
        ]
        # The app's identity, and in dev the CI identity that runs the gate on main.
        assert len(principals) == (2 if env == "dev" else 1)
        assert ("99999999-0000-0000-0000-000000000000" in principals) == (env == "dev")
        # Prod: no public access to the model, so the app reaches it through its VNet.
        environment = recording.one("azure-native:app:ManagedEnvironment").inputs
        endpoints = recording.of_type("azure-native:network:PrivateEndpoint")
        if env == "prod":
            subnet = recording.named("project-prod-apps")
            assert subnet.inputs["delegations"][0]["serviceName"] == "Microsoft.App/environments"
            assert "infrastructureSubnetId" in environment["vnetConfiguration"]
            assert len(endpoints) == 1
            vnet = recording.one("azure-native:network:VirtualNetwork").inputs
            assert vnet["addressSpace"]["addressPrefixes"] == ["10.40.0.0/16"]
            zone = recording.one("azure-native:privatedns:PrivateZone").inputs
            assert zone["privateZoneName"] == "privatelink.openai.azure.com"
        else:
            assert "vnetConfiguration" not in environment
            assert endpoints == []


def test_a_key_based_llm_endpoint_in_the_stack_is_rejected(rendered: Render) -> None:
    """The generated stack with its AI account switched to key (local) auth, as a careless
    edit would: the policy pack names it."""
    recording = run_llm_service(rendered, "azure", "dev")
    account = recording.one("azure-native:cognitiveservices:Account")
    account.inputs["properties"]["disableLocalAuth"] = False
    found = check_policies(recording, POLICIES)
    assert [v.policy for v in found] == ["ai-local-auth-disabled"], found
    assert found[0].resource.endswith("project-dev-ai")


def test_llm_service_stack_config_errors_name_the_key(rendered: Render) -> None:
    with pytest.raises(RunError, match="project-service:llmModel is missing"):
        run_llm_service(rendered, "azure", "dev", llmModel=None)
    with pytest.raises(RunError, match="llmModelVersion is missing"):
        run_llm_service(rendered, "azure", "dev", llmModelVersion=None)
    with pytest.raises(RunError, match="project-service:llmCapacity is 'many', not a whole"):
        run_llm_service(rendered, "azure", "dev", llmCapacity="many")
    with pytest.raises(
        RunError, match=r"project-service:privateAddressSpace is '192\.168\.0\.0/24'"
    ):
        run_llm_service(rendered, "azure", "prod", privateAddressSpace="192.168.0.0/24")
