#!/usr/bin/env bash
# Log docker in to Azure Container Registry with the CI identity's Azure CLI login, then
# build and push the image once (scripts/build-image.sh). Prints `digest=sha256:...`.
# Usage: scripts/azure/build-push.sh TAG
set -euo pipefail
here=$(dirname "$0")
repository=$(bash "$here/../image.sh")
registry_host=${repository%%/*}
az acr login --name "${registry_host%%.*}" >&2
exec bash "$here/../build-image.sh" "$@"
