"""Infra tests run components and programs under Pulumi mocks (goldpath_infra.testing):
the engine and the clouds are the mocked boundary, nothing else."""

from __future__ import annotations

from typing import Any

from goldpath_infra.testing import Recording

# Maps whose keys are user data, not schema property names.
FREE_FORM = {"labels", "tags", "userLabels", "metadata", "attributeMapping"}


def snake_keys(node: Any, path: str = "") -> list[str]:
    """Schema keys still in snake_case: the SDK did not translate them (a union-typed
    input given as a plain dict), so the real engine would reject or ignore them."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if "_" in key and not key.startswith("__"):
                found.append(f"{path}.{key}")
            if key not in FREE_FORM:
                found.extend(snake_keys(value, f"{path}.{key}"))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.extend(snake_keys(item, f"{path}[{index}]"))
    return found


def assert_component_shape(recording: Recording) -> None:
    """Every cloud resource hangs under a goldpath component, and every component
    registered its outputs."""
    components = {r.urn for r in recording.resources if not r.custom}
    for resource in recording.resources:
        providers = {"gcp", "azure-native", "random", "github", "azuredevops", "gitlab"}
        if resource.custom and resource.type.split(":")[0] in providers:
            assert resource.parent_type.startswith("goldpath:") or resource.type == (
                "azure-native:resources:ResourceGroup"
            ), f"{resource.type} {resource.name} is not a component's child"
        bad = snake_keys(resource.inputs)
        assert not bad, f"{resource.type} {resource.name}: untranslated keys {bad}"
    registered = set(recording.component_outputs)
    assert components <= registered, f"no register_outputs: {sorted(components - registered)}"
