#!/usr/bin/env bash
# Roll one image digest out to this environment's Cloud Run service, then smoke-test it
# with the deployer's identity token (the service is private). The service, region and
# project are the service stack's outputs (scripts/service-stack.sh up, just before).
# Usage: scripts/gcp/deploy-service.sh DIGEST. Prints `url=<the service's URL>`.
set -euo pipefail
here=$(dirname "$0")
image=$(bash "$here/../image.sh" "${1:-}")
service=$(bash "$here/../stack-output.sh" serviceName)
region=$(bash "$here/../stack-output.sh" region)
project=$(bash "$here/../stack-output.sh" project)
deployer=$(bash "$here/../stack-output.sh" deployerServiceAccount)
gcloud run deploy "$service" --image "$image" --region "$region" --project "$project" \
  --quiet >&2
url=$(gcloud run services describe "$service" --region "$region" --project "$project" \
  --format 'value(status.url)')
SMOKE_TOKEN=$(gcloud auth print-identity-token --audiences="$url" --include-email \
  --impersonate-service-account="$deployer")
export SMOKE_TOKEN
bash "$here/../smoke-test.sh" "$url" >&2
echo "url=$url"
