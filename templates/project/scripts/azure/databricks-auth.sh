# shellcheck shell=bash
# Source me: Azure Databricks accepts the CI identity's Azure CLI login (the login step), so
# no Databricks token exists.
export DATABRICKS_AUTH_TYPE=azure-cli
