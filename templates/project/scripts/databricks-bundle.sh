#!/usr/bin/env bash
# `databricks bundle validate` or `deploy` for one target, after the cloud's Databricks
# authentication (scripts/<cloud>/databricks-auth.sh, sourced): no Databricks token exists.
# Usage: scripts/databricks-bundle.sh validate|deploy dev|staging|prod
set -euo pipefail
command=${1:-}
target=${2:-}
case "$command" in
  validate | deploy) ;;
  *) echo "databricks-bundle.sh: the command is validate or deploy, not '$command'" >&2; exit 2 ;;
esac
case "$target" in
  dev | staging | prod) ;;
  *) echo "databricks-bundle.sh: the target is dev, staging or prod, not '$target'" >&2; exit 2 ;;
esac
: "${DATABRICKS_HOST:?DATABRICKS_HOST: the workspace URL (README, One-time setup)}"
: "${DATABRICKS_SERVICE_PRINCIPAL:?DATABRICKS_SERVICE_PRINCIPAL: the deploying principal (README)}"
databricks bundle "$command" --target "$target" --var "service_principal=${DATABRICKS_SERVICE_PRINCIPAL}"
