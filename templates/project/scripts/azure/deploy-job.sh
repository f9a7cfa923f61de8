#!/usr/bin/env bash
# Roll one image digest out to this environment's Container Apps job and run it once on a
# generated sample (`smoke`); the execution's status is the check. The job and its resource
# group are the service stack's outputs (scripts/service-stack.sh up).
# Usage: scripts/azure/deploy-job.sh DIGEST
set -euo pipefail
here=$(dirname "$0")
image=$(bash "$here/../image.sh" "${1:-}")
job=$(bash "$here/../stack-output.sh" jobName)
resource_group=$(bash "$here/../stack-output.sh" resourceGroup)
az containerapp job update --name "$job" --resource-group "$resource_group" --image "$image" \
  --output none >&2
execution=$(az containerapp job start --name "$job" --resource-group "$resource_group" \
  --image "$image" --args smoke --query name --output tsv)
for _ in $(seq 1 "${JOB_POLLS:-90}"); do
  status=$(az containerapp job execution show --name "$job" \
    --resource-group "$resource_group" --job-execution-name "$execution" \
    --query properties.status --output tsv)
  case "$status" in
    Succeeded) exit 0 ;;
    Failed | Stopped | Degraded)
      echo "deploy-job.sh: job execution $execution ended $status" >&2
      exit 1 ;;
  esac
  sleep "${JOB_POLL_SECONDS:-10}"
done
echo "deploy-job.sh: job execution $execution did not finish in time" >&2
exit 1
