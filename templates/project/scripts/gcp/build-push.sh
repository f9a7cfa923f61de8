#!/usr/bin/env bash
# Log docker in to Artifact Registry with the CI identity's gcloud credentials, then build
# and push the image once (scripts/build-image.sh). Prints `digest=sha256:...`.
# Usage: scripts/gcp/build-push.sh TAG
set -euo pipefail
here=$(dirname "$0")
repository=$(bash "$here/../image.sh")
gcloud auth configure-docker "${repository%%/*}" --quiet >&2
exec bash "$here/../build-image.sh" "$@"
