#!/usr/bin/env bash
# Roll one digest out to this environment's Cloud Run service and smoke-test /readyz.
set -euo pipefail
# shellcheck source=.azure-pipelines/scripts/gcp-login.sh
source "$(dirname "$0")/gcp-login.sh"

service="${PROJECT}-${ENVIRONMENT}"
gcloud run deploy "$service" --image "${IMAGE_REGISTRY}/${PROJECT}@${DIGEST}" \
  --region "$GCP_REGION" --project "$GCP_PROJECT_ID" --quiet
url=$(gcloud run services describe "$service" \
  --region "$GCP_REGION" --project "$GCP_PROJECT_ID" --format 'value(status.url)')
token=$(gcloud auth print-identity-token --audiences="$url" --include-email \
  --impersonate-service-account="$GCP_DEPLOYER_SERVICE_ACCOUNT")
curl --fail --silent --show-error --retry 10 --retry-delay 6 --retry-all-errors \
  --max-time 10 --header "Authorization: Bearer ${token}" "${url}/readyz"
