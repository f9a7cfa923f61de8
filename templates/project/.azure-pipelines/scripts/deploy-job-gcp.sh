#!/usr/bin/env bash
# Roll one digest out to this environment's Cloud Run job and run it once on a generated
# sample (`smoke`): `--wait` exits non-zero when the execution fails.
set -euo pipefail
# shellcheck source=.azure-pipelines/scripts/gcp-login.sh
source "$(dirname "$0")/gcp-login.sh"

job="${PROJECT}-${ENVIRONMENT}"
gcloud run jobs update "$job" --image "${IMAGE_REGISTRY}/${PROJECT}@${DIGEST}" \
  --region "$GCP_REGION" --project "$GCP_PROJECT_ID" --quiet
gcloud run jobs execute "$job" --region "$GCP_REGION" --project "$GCP_PROJECT_ID" --wait \
  --args=smoke
