"""Run Pulumi programs and components offline, under `pulumi.runtime.set_mocks`.

MOCK BOUNDARY: the Pulumi engine and the cloud providers are replaced here, and only
here. Everything above them (our components, programs and policies) runs for real.
Pitfalls this harness handles, so tests need not:

- mocks are installed before the program is imported or run;
- `preview=False`, otherwise `Output.apply` callbacks (where checks live) never run;
- an asyncio loop exists before `set_mocks` (newer Pythons have none by default);
- azure-native `user_assigned_identities` inputs are lists but outputs are `{id: {}}` maps.
"""

from __future__ import annotations

import asyncio
import json
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import settings
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from pulumi_policy import (
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)


@dataclass
class RecordedResource:
    """One resource the program registered, with its wire-format (camelCase) inputs."""

    type: str
    name: str
    inputs: dict[str, Any]
    urn: str
    parent: str
    custom: bool

    @property
    def parent_type(self) -> str:
        return self.parent.split("::")[2].split("$")[-1] if self.parent else ""


@dataclass
class Recording:
    resources: list[RecordedResource] = field(default_factory=list)
    component_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    stack_outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> RecordedResource:
        found = self.of_type(type_)
        assert len(found) == 1, f"expected one {type_}, found {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> RecordedResource:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, found {len(found)}"
        return found[0]


def _fake_outputs(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs a provider would compute, enough for dependent resources to be built."""
    out = dict(inputs)
    identity = out.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        identity["userAssignedIdentities"] = {i: {} for i in identity["userAssignedIdentities"]}
    out.setdefault("name", name)
    if type_.startswith("gcp:"):
        out.setdefault("project", "mock-project")
        if type_ == "gcp:serviceaccount/account:Account":
            out["email"] = f"{inputs.get('accountId', name)}@mock-project.iam.gserviceaccount.com"
            out["name"] = f"projects/mock-project/serviceAccounts/{out['email']}"
        if type_ == "gcp:iam/workloadIdentityPool:WorkloadIdentityPool":
            out["name"] = f"projects/123456/locations/global/workloadIdentityPools/{name}"
        if type_ == "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider":
            out["name"] = (
                f"projects/123456/locations/global/workloadIdentityPools/p/providers/{name}"
            )
        if type_ == "gcp:cloudrunv2/service:Service":
            out["uri"] = f"https://{inputs.get('name', name)}-abc123-ew.a.run.app"
        if type_ == "gcp:sql/databaseInstance:DatabaseInstance":
            out["connectionName"] = f"mock-project:europe-west2:{name}"
        if type_ == "gcp:storage/bucket:Bucket":
            out["url"] = f"gs://{inputs.get('name', name)}"
        if type_ == "gcp:monitoring/notificationChannel:NotificationChannel":
            out["name"] = f"projects/mock-project/notificationChannels/{name}"
    if type_.startswith("azure-native:"):
        # azure-native reports the physical name (e.g. registryName) as `name`.
        if type_ == "azure-native:resources:ResourceGroup":
            out["name"] = inputs.get("resourceGroupName", name)
        else:
            physical = [
                v for k, v in inputs.items()
                if k.endswith("Name") and k != "resourceGroupName" and isinstance(v, str)
            ]  # fmt: skip
            out["name"] = physical[0] if physical else inputs.get("resourceName", name)
        rg = inputs.get("resourceGroupName", "mock-rg")
        out["id"] = f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{rg}"
        if type_ != "azure-native:resources:ResourceGroup":
            out["id"] += f"/providers/{type_.split(':')[1]}/{out['name']}"
        out.setdefault("principalId", "11111111-1111-1111-1111-111111111111")
        out.setdefault("clientId", "22222222-2222-2222-2222-222222222222")
        out.setdefault("tenantId", "33333333-3333-3333-3333-333333333333")
        out.setdefault("loginServer", f"{inputs.get('registryName', name)}.azurecr.io")
        out.setdefault("customerId", "44444444-4444-4444-4444-444444444444")
        out.setdefault("workspaceId", "55555555-5555-5555-5555-555555555555")
        out.setdefault("latestRevisionFqdn", f"{name}.internal.example.azurecontainerapps.io")
        out.setdefault("configuration", inputs.get("configuration", {}))
        out.setdefault("workspaceUrl", f"adb-1234567890.{name}.azuredatabricks.net")
    if type_ == "github:index/team:Team":
        out["id"] = "4242"  # GitHub's team ids are numbers; reviewers take them as such
    if type_ == "random:index/randomPassword:RandomPassword":
        out["result"] = "mock-password-not-a-secret"
    return out


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self, stack_references: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.invokes: list[str] = []
        self.stack_references = dict(stack_references or {})

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            name = args.inputs.get("name", args.name)
            if name not in self.stack_references:
                raise KeyError(f"no outputs given for stack reference {name!r}")
            outputs = {"name": name, "outputs": dict(self.stack_references[name])}
            return name, {**outputs, "secretOutputNames": []}
        outputs = _fake_outputs(args.typ, args.name, args.inputs)
        return outputs.get("id", f"{args.name}-id"), outputs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return self._call(args), []

    def _call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        function = args.token  # e.g. "gcp:...:getProject"
        self.invokes.append(function)
        if function == "azure-native:authorization:getClientConfig":
            return {
                "clientId": "66666666-6666-6666-6666-666666666666",
                "objectId": "77777777-7777-7777-7777-777777777777",
                "subscriptionId": "00000000-0000-0000-0000-000000000000",
                "tenantId": "33333333-3333-3333-3333-333333333333",
            }
        if function == "azure-native:operationalinsights:getSharedKeys":
            return {"primarySharedKey": "mock-key", "secondarySharedKey": "mock-key"}
        if function == "github:index/getRepository:getRepository":
            full_name = str(args.args.get("fullName", "owner/name"))
            return {"fullName": full_name, "name": full_name.split("/")[-1], "repoId": 4343}
        if function == "gcp:organizations/getProject:getProject":
            return {"number": "123456", "projectId": "mock-project"}
        return {}


class _RecordingMonitor(_mocks.MockMonitor):
    """The stock mock monitor, also remembering each registration's parent and the outputs
    components register (so tests can check `parent=self` and `register_outputs`)."""

    def __init__(self, mocks: RecordingMocks, recording: Recording) -> None:
        super().__init__(mocks)
        self.recording = recording

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            inputs = pulumi.runtime.rpc.deserialize_properties(request.object)
            self.recording.resources.append(
                RecordedResource(
                    type=request.type,
                    name=request.name,
                    inputs=_plain(inputs),
                    urn=response.urn,
                    parent=request.parent,
                    custom=request.custom,
                )
            )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        outputs = pulumi.runtime.rpc.deserialize_properties(request.outputs)
        if request.urn.split("::")[2] != "pulumi:pulumi:Stack":
            self.recording.component_outputs[request.urn] = _plain(outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def _plain(value: Any) -> Any:
    """Unknowns and secrets from the wire, as plain JSON-able values for assertions."""
    if isinstance(value, dict):
        if value.get("4dabf18193072939515e22adb298388d") == "1b47061264138c4ac30d75fd1eb44270":
            return _plain(value.get("value"))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def run_program(
    program: Callable[[], None] | Path,
    *,
    config: Mapping[str, Any] | None = None,
    project: str = "project",
    stack: str = "dev",
    stack_references: Mapping[str, Mapping[str, Any]] | None = None,
) -> Recording:
    """Run a program (a function, or a folder with __main__.py) and record what it built.

    `config` maps "namespace:key" to values, as in a Pulumi.<stack>.yaml file; objects and
    lists are passed as JSON, as the engine does. `stack_references` gives the outputs of
    other stacks the program reads with `pulumi.StackReference`, by stack name.
    """
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    recording = Recording()
    mocks = RecordingMocks(stack_references)
    pulumi.runtime.set_all_config(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in (config or {}).items()}
    )
    # A fresh root stack per run, so one test's exports never leak into the next.
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        mocks,
        project=project,
        stack=stack,
        preview=False,
        monitor=_RecordingMonitor(mocks, recording),
    )
    # set_mocks made a fresh root stack; the program's exports land on it.
    if isinstance(program, Path):
        path = program / "__main__.py"

        def run_main() -> None:
            runpy.run_path(str(path), run_name="__main__")

        _sync_await(run_pulumi_func(run_main))
    else:
        _sync_await(run_pulumi_func(program))
    root = get_root_resource()
    outputs = getattr(root, "outputs", {}) or {}
    recording.stack_outputs = {
        name: _plain(_sync_await(pulumi.Output.from_input(value).future()))
        for name, value in outputs.items()
    }
    return recording


def stack_config(program_dir: Path, stack: str) -> dict[str, Any]:
    """The `config:` of Pulumi.<stack>.yaml beside a program, as run_program expects it."""
    document = yaml.safe_load((program_dir / f"Pulumi.{stack}.yaml").read_text())
    return dict(document.get("config") or {})


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str
    message: str


def check_policies(
    recording: Recording, policies: list[ResourceValidationPolicy]
) -> list[Violation]:
    """Run resource validation policies over what a mocked program registered: the same
    policy objects `pulumi preview --policy-pack` runs against the real engine."""
    violations: list[Violation] = []
    for resource in recording.resources:
        if not resource.custom:
            continue
        args = ResourceValidationArgs(
            resource_type=resource.type,
            props=resource.inputs,
            urn=resource.urn,
            name=resource.name,
            opts=PolicyResourceOptions(
                protect=False,
                ignore_changes=[],
                delete_before_replace=None,
                aliases=[],
                custom_timeouts=None,  # type: ignore[arg-type]
                additional_secret_outputs=[],
                parent=resource.parent or None,
            ),
            provider=None,
        )
        for policy in policies:

            def report(
                message: str,
                urn: str | None = None,
                *,
                _policy: str = policy.name,
                _resource: str = resource.name,
            ) -> None:
                violations.append(Violation(_policy, _resource, message))

            policy.validate(args, report)
    return violations


__all__ = [
    "RecordedResource",
    "Recording",
    "ReportViolation",
    "Violation",
    "check_policies",
    "run_program",
    "stack_config",
]
