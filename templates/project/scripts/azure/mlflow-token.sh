# shellcheck shell=bash
# Source me after the login: Azure ML's MLflow plugin takes the Azure CLI login itself, so
# no token is added (the same call as scripts/gcp/mlflow-token.sh).
: "${MLFLOW_TRACKING_URI:?MLFLOW_TRACKING_URI: the platform model registry (README)}"
