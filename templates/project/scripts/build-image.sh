#!/usr/bin/env bash
# Build the image once, push it with its provenance and SBOM, and print `digest=sha256:...`
# (the only line on stdout, for the CI system to keep). Runs after the cloud's registry
# login (scripts/<cloud>/build-push.sh). Usage: scripts/build-image.sh TAG (the commit).
set -euo pipefail
here=$(dirname "$0")
tag=${1:?usage: scripts/build-image.sh TAG}
if ! [[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
  echo "build-image.sh: '$tag' is not an image tag (letters, digits, _ . -)" >&2
  exit 2
fi
repository=$(bash "$here/image.sh")
metadata=$(mktemp)
# Attestations need a BuildKit builder: GitHub's setup-buildx-action names one; elsewhere
# one is created for this build.
if [ -z "${BUILDX_BUILDER:-}" ]; then
  docker buildx create --use --driver docker-container >&2
fi
docker buildx build . --tag "${repository}:${tag}" --push \
  --provenance mode=max --sbom true --metadata-file "$metadata" >&2
digest=$(jq -er '."containerimage.digest"' "$metadata")
echo "digest=${digest}"
