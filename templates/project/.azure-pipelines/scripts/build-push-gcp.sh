#!/usr/bin/env bash
# Build the image once, push it to Artifact Registry, publish its digest (digest.value).
set -euo pipefail
# shellcheck source=.azure-pipelines/scripts/gcp-login.sh
source "$(dirname "$0")/gcp-login.sh"

gcloud auth configure-docker "${IMAGE_REGISTRY%%/*}" --quiet
image="${IMAGE_REGISTRY}/${REPOSITORY}:${BUILD_SOURCEVERSION}"
docker build --tag "$image" .
docker push "$image"
digest=$(gcloud artifacts docker images describe "$image" --format 'value(image_summary.digest)')
echo "##vso[task.setvariable variable=value;isOutput=true]${digest}"
