# shellcheck shell=bash
# Source me: Databricks' token federation trusts the CI job's OIDC token for the deploying
# service principal, so no Databricks token exists. With OIDC_TOKEN (Azure DevOps, GitLab)
# the CLI presents it; on GitHub Actions it requests the job's own (id-token: write).
export DATABRICKS_CLIENT_ID="${DATABRICKS_SERVICE_PRINCIPAL:?DATABRICKS_SERVICE_PRINCIPAL: see README}"
if [ -n "${OIDC_TOKEN:-}" ]; then
  export DATABRICKS_AUTH_TYPE=env-oidc DATABRICKS_OIDC_TOKEN="$OIDC_TOKEN"
else
  export DATABRICKS_AUTH_TYPE=github-oidc
fi
