#!/usr/bin/env bash
# Roll one digest out to this environment's Cloud Run service and smoke-test /readyz (and,
# for an LLM service, SMOKE_EXTRACT=true, one real extraction through /extract).
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
if [ "${SMOKE_EXTRACT:-false}" = "true" ]; then
  curl --fail --silent --show-error --retry 3 --retry-delay 5 --retry-all-errors \
    --max-time 30 --header "Authorization: Bearer ${token}" \
    --header "content-type: application/json" \
    --data '{"message": "bid in 25mm EUR 5y IRS vs 6m Euribor"}' "${url}/extract" \
    | tee extract.json
  jq -e '(.result | has("instrument")) and .prompt.version != null' extract.json
fi
