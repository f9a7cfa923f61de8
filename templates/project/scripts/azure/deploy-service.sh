#!/usr/bin/env bash
# Roll one image digest out to this environment's Container App, then smoke-test it. The
# app and its resource group are the service stack's outputs (scripts/service-stack.sh up,
# just before). Usage: scripts/azure/deploy-service.sh DIGEST. Prints `url=<the app's URL>`.
set -euo pipefail
here=$(dirname "$0")
image=$(bash "$here/../image.sh" "${1:-}")
app=$(bash "$here/../stack-output.sh" serviceName)
resource_group=$(bash "$here/../stack-output.sh" resourceGroup)
az containerapp update --name "$app" --resource-group "$resource_group" --image "$image" \
  --output none >&2
fqdn=$(az containerapp show --name "$app" --resource-group "$resource_group" \
  --query properties.configuration.ingress.fqdn --output tsv)
bash "$here/../smoke-test.sh" "https://${fqdn}" >&2
echo "url=https://${fqdn}"
