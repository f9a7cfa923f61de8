#!/usr/bin/env bash
# Roll one image digest out to this environment's Cloud Run job and run it once on a
# generated sample (`smoke`): `--wait` exits non-zero when the execution fails. The job,
# region and project are the service stack's outputs (scripts/service-stack.sh up).
# Usage: scripts/gcp/deploy-job.sh DIGEST
set -euo pipefail
here=$(dirname "$0")
image=$(bash "$here/../image.sh" "${1:-}")
job=$(bash "$here/../stack-output.sh" jobName)
region=$(bash "$here/../stack-output.sh" region)
project=$(bash "$here/../stack-output.sh" project)
gcloud run jobs update "$job" --image "$image" --region "$region" --project "$project" \
  --quiet >&2
gcloud run jobs execute "$job" --region "$region" --project "$project" --wait \
  --args=smoke >&2
