#!/usr/bin/env bash
# Source me inside AzureCLI@2 with `addSpnToEnvironment: true`: exchanges the pipeline's
# OIDC token ($idToken, issued for the service connection) for Google Cloud credentials
# through workload identity federation. No key file is ever created or stored.
set -euo pipefail
: "${idToken:?run inside AzureCLI@2 with addSpnToEnvironment: true}"
: "${GCP_WORKLOAD_IDENTITY_PROVIDER:?set GCP_WORKLOAD_IDENTITY_PROVIDER in the variable group}"
: "${GCP_DEPLOYER_SERVICE_ACCOUNT:?set GCP_DEPLOYER_SERVICE_ACCOUNT in the variable group}"

credentials_dir="${AGENT_TEMPDIRECTORY:-$(mktemp -d)}"
umask 077
printf '%s' "$idToken" > "$credentials_dir/oidc-token.jwt"
gcloud iam workload-identity-pools create-cred-config "$GCP_WORKLOAD_IDENTITY_PROVIDER" \
  --service-account="$GCP_DEPLOYER_SERVICE_ACCOUNT" \
  --credential-source-file="$credentials_dir/oidc-token.jwt" \
  --output-file="$credentials_dir/gcp-credentials.json"
gcloud auth login --cred-file="$credentials_dir/gcp-credentials.json" --quiet
export GOOGLE_APPLICATION_CREDENTIALS="$credentials_dir/gcp-credentials.json"
# Client libraries (e.g. Vertex AI calls in the evaluation gate) may need another of the
# pool's service accounts than gcloud's: their application-default credentials only.
if [ -n "${GCP_ADC_SERVICE_ACCOUNT:-}" ]; then
  gcloud iam workload-identity-pools create-cred-config "$GCP_WORKLOAD_IDENTITY_PROVIDER" \
    --service-account="$GCP_ADC_SERVICE_ACCOUNT" \
    --credential-source-file="$credentials_dir/oidc-token.jwt" \
    --output-file="$credentials_dir/gcp-adc.json"
  export GOOGLE_APPLICATION_CREDENTIALS="$credentials_dir/gcp-adc.json"
fi
