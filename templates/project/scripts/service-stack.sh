#!/usr/bin/env bash
# `pulumi preview` or `pulumi up` of this project's service stack (infra/) for one
# environment, after the CI system's cloud login. After `up`, the stack's outputs go to
# service-stack.json (SERVICE_STACK_OUTPUTS), which the deploy scripts read: the names of
# the service, its region and project or resource group come from the stack, not from CI.
# Usage: scripts/service-stack.sh preview|up dev|staging|prod
set -euo pipefail
command=${1:-}
stack=${2:-}
case "$command" in
  preview | up) ;;
  *) echo "service-stack.sh: the command is preview or up, not '$command'" >&2; exit 2 ;;
esac
case "$stack" in
  dev | staging | prod) ;;
  *) echo "service-stack.sh: the stack is dev, staging or prod, not '$stack'" >&2; exit 2 ;;
esac
: "${PULUMI_BACKEND_URL:?PULUMI_BACKEND_URL: the platform state backend (README, One-time setup)}"
: "${PULUMI_SECRETS_PROVIDER:?PULUMI_SECRETS_PROVIDER: the platform key (README, One-time setup)}"
outputs=$(realpath -m "${SERVICE_STACK_OUTPUTS:-service-stack.json}")
export PATH="$HOME/.pulumi/bin:$PATH"
cd "$(dirname "$0")/../infra"
pulumi login "$PULUMI_BACKEND_URL" >&2
pulumi install >&2
pulumi stack select --create "$stack" --secrets-provider "$PULUMI_SECRETS_PROVIDER" >&2
if [ "$command" = up ]; then
  pulumi up --stack "$stack" --yes --non-interactive >&2
  pulumi stack output --stack "$stack" --json > "$outputs"
else
  pulumi preview --stack "$stack" --diff --non-interactive >&2
fi
