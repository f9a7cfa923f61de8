#!/usr/bin/env bash
# Roll one image digest out to this environment's Container App, then smoke-test it. The
# app and its resource group are the service stack's outputs (scripts/service-stack.sh up,
# just before). Usage: scripts/azure/deploy-service.sh DIGEST. Prints `url=<the app's URL>`.
#
# With CANARY_PERCENT (1-99, the environment's setting; the app in multiple-revision
# mode) the new revision first takes that share of traffic; scripts/canary.sh then
# compares it with the stable revision on Azure Monitor managed Prometheus, and the run
# promotes it to 100 % or sends every request back to the stable revision and fails.
set -euo pipefail
here=$(dirname "$0")
image=$(bash "$here/../image.sh" "${1:-}")
app=$(bash "$here/../stack-output.sh" serviceName)
resource_group=$(bash "$here/../stack-output.sh" resourceGroup)
where=(--name "$app" --resource-group "$resource_group")
percent=${CANARY_PERCENT:-0}
if ! [[ "$percent" =~ ^[0-9]{1,2}$ ]]; then
  echo "deploy-service.sh: CANARY_PERCENT '$percent' is not 0-99" >&2
  exit 2
fi
revision() {
  az containerapp show "${where[@]}" --query "properties.$1" --output tsv
}
weights() {
  az containerapp ingress traffic set "${where[@]}" --revision-weight "$@" --output none >&2
}
if [ "$percent" -gt 0 ]; then
  stable=$(revision latestReadyRevisionName)
  weights "$stable=100"  # the new revision starts with no traffic
fi
az containerapp update "${where[@]}" --image "$image" --output none >&2
if [ "$percent" -gt 0 ]; then
  canary=$(revision latestRevisionName)
  weights "$stable=$((100 - percent))" "$canary=$percent"
else
  weights latest=100  # whatever an earlier canary pinned, the new revision serves
fi
fqdn=$(revision configuration.ingress.fqdn)
bash "$here/../smoke-test.sh" "https://${fqdn}" >&2
if [ "$percent" -gt 0 ]; then
  PROMETHEUS_TOKEN=$(az account get-access-token --resource https://prometheus.monitor.azure.com \
    --query accessToken --output tsv)
  export PROMETHEUS_TOKEN
  if bash "$here/../canary.sh" "$stable" "$canary" >&2; then
    weights latest=100
  else
    weights "$stable=100"
    echo "deploy-service.sh: the canary $canary was rolled back to $stable" >&2
    exit 1
  fi
fi
echo "url=https://${fqdn}"
