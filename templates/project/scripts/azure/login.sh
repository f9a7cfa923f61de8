# shellcheck shell=bash
# Source me: the OIDC login to Azure for a CI system without a login of its own (GitLab):
# the job's OIDC token (OIDC_TOKEN) is the federated credential of the CI identity
# (AZURE_CLIENT_ID), so no client secret exists. Where the CI system has logged in already
# (GitHub's azure/login, Azure DevOps' AzureCLI@2 task), there is nothing to do.
if az account show --output none 2>/dev/null; then
  return 0
fi
: "${OIDC_TOKEN:?OIDC_TOKEN: the CI job OIDC token, which the CI identity trusts}"
: "${AZURE_CLIENT_ID:?AZURE_CLIENT_ID: the platform CI identity (README)}"
: "${AZURE_TENANT_ID:?AZURE_TENANT_ID: see README}"
: "${AZURE_SUBSCRIPTION_ID:?AZURE_SUBSCRIPTION_ID: see README}"
az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" \
  --federated-token "$OIDC_TOKEN" --output none
az account set --subscription "$AZURE_SUBSCRIPTION_ID"
