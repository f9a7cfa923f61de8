#!/usr/bin/env bash
# Roll one image digest out to this environment's Cloud Run service, then smoke-test it
# with the deployer's identity token (the service is private). The service, region and
# project are the service stack's outputs (scripts/service-stack.sh up, just before).
# Usage: scripts/gcp/deploy-service.sh DIGEST. Prints `url=<the service's URL>`.
#
# With CANARY_PERCENT (1-99, the environment's setting) the new revision first takes that
# share of traffic; scripts/canary.sh then compares it with the stable revision on Google
# Managed Service for Prometheus, and the run promotes it to 100 % or sends every request
# back to the stable revision and fails. Without it, the revision takes all traffic at once.
set -euo pipefail
here=$(dirname "$0")
image=$(bash "$here/../image.sh" "${1:-}")
service=$(bash "$here/../stack-output.sh" serviceName)
region=$(bash "$here/../stack-output.sh" region)
project=$(bash "$here/../stack-output.sh" project)
deployer=$(bash "$here/../stack-output.sh" deployerServiceAccount)
where=(--region "$region" --project "$project")
percent=${CANARY_PERCENT:-0}
if ! [[ "$percent" =~ ^[0-9]{1,2}$ ]]; then
  echo "deploy-service.sh: CANARY_PERCENT '$percent' is not 0-99" >&2
  exit 2
fi
revision() {
  gcloud run services describe "$service" "${where[@]}" --format "value(status.$1)"
}
if [ "$percent" -eq 0 ]; then
  gcloud run deploy "$service" --image "$image" "${where[@]}" --quiet >&2
else
  stable=$(revision latestReadyRevisionName)
  gcloud run deploy "$service" --image "$image" "${where[@]}" --no-traffic --quiet >&2
  canary=$(revision latestCreatedRevisionName)
  gcloud run services update-traffic "$service" "${where[@]}" --quiet \
    --to-revisions "$canary=$percent,$stable=$((100 - percent))" >&2
fi
url=$(gcloud run services describe "$service" "${where[@]}" --format 'value(status.url)')
SMOKE_TOKEN=$(gcloud auth print-identity-token --audiences="$url" --include-email \
  --impersonate-service-account="$deployer")
export SMOKE_TOKEN
bash "$here/../smoke-test.sh" "$url" >&2
if [ "$percent" -gt 0 ]; then
  PROMETHEUS_URL=${PROMETHEUS_URL:-https://monitoring.googleapis.com/v1/projects/$project/location/global/prometheus}
  PROMETHEUS_TOKEN=$(gcloud auth print-access-token)
  export PROMETHEUS_URL PROMETHEUS_TOKEN
  if bash "$here/../canary.sh" "$stable" "$canary" >&2; then
    gcloud run services update-traffic "$service" "${where[@]}" --to-latest --quiet >&2
  else
    gcloud run services update-traffic "$service" "${where[@]}" --quiet \
      --to-revisions "$stable=100" >&2
    echo "deploy-service.sh: the canary $canary was rolled back to $stable" >&2
    exit 1
  fi
fi
echo "url=$url"
