#!/usr/bin/env bash
# `pulumi preview` or `pulumi up` ($COMMAND) of the service stack for $STACK.
set -euo pipefail
# shellcheck source=.azure-pipelines/scripts/gcp-login.sh
source "$(dirname "$0")/gcp-login.sh"

export PATH="$HOME/.pulumi/bin:$PATH"
cd infra
pulumi login "$PULUMI_BACKEND_URL"
pulumi install
pulumi stack select --create "$STACK" --secrets-provider "$PULUMI_SECRETS_PROVIDER"
if [ "$COMMAND" = up ]; then
  pulumi up --stack "$STACK" --yes --non-interactive
else
  pulumi preview --stack "$STACK" --diff --non-interactive
fi
