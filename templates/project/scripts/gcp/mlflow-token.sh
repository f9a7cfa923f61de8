# shellcheck shell=bash
# Source me after the login as the trainer: the MLflow server runs on Cloud Run and is
# private, so MLflow's client sends the trainer's identity token for it.
: "${MLFLOW_TRACKING_URI:?MLFLOW_TRACKING_URI: the platform model registry (README)}"
: "${GCP_TRAINER_SERVICE_ACCOUNT:?GCP_TRAINER_SERVICE_ACCOUNT: the platform trainer (README)}"
MLFLOW_TRACKING_TOKEN=$(gcloud auth print-identity-token --audiences="$MLFLOW_TRACKING_URI" \
  --include-email --impersonate-service-account="$GCP_TRAINER_SERVICE_ACCOUNT")
export MLFLOW_TRACKING_TOKEN
