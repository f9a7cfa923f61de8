# shellcheck shell=bash
# Source me: the OIDC login to Google Cloud for a CI system without a login action (Azure
# DevOps, GitLab). The job's OIDC token (OIDC_TOKEN) is exchanged through workload identity
# federation for CI_IDENTITY's service account, `deployer` (images, the service stack,
# rollouts) or `trainer` (the model registry, the evaluation gate's model): gcloud and the
# client libraries both act as it. No key file is ever created or stored. GitHub Actions
# logs in with google-github-actions/auth and then runs the same scripts.
: "${OIDC_TOKEN:?OIDC_TOKEN: the CI job OIDC token, which the Google Cloud pool trusts}"
: "${GCP_WORKLOAD_IDENTITY_PROVIDER:?GCP_WORKLOAD_IDENTITY_PROVIDER: the platform pool provider (README)}"
case "${CI_IDENTITY:-deployer}" in
  deployer) gcp_account=${GCP_DEPLOYER_SERVICE_ACCOUNT:?GCP_DEPLOYER_SERVICE_ACCOUNT: see README} ;;
  trainer) gcp_account=${GCP_TRAINER_SERVICE_ACCOUNT:?GCP_TRAINER_SERVICE_ACCOUNT: see README} ;;
  *) echo "login.sh: CI_IDENTITY is deployer or trainer, not '${CI_IDENTITY}'" >&2; return 2 ;;
esac
gcp_credentials=$(mktemp -d)
(umask 077 && printf '%s' "$OIDC_TOKEN" > "$gcp_credentials/oidc-token.jwt")
gcloud iam workload-identity-pools create-cred-config "$GCP_WORKLOAD_IDENTITY_PROVIDER" \
  --service-account="$gcp_account" \
  --credential-source-file="$gcp_credentials/oidc-token.jwt" \
  --output-file="$gcp_credentials/credentials.json"
gcloud auth login --cred-file="$gcp_credentials/credentials.json" --quiet
export GOOGLE_APPLICATION_CREDENTIALS="$gcp_credentials/credentials.json"
