#!/usr/bin/env bash
# The canary's verdict: waits one window while the new revision takes its share of live
# traffic, then compares it with the stable revision on the platform's Prometheus
# (goldpath_runtime.serving.canary: error rate and p99). Exit 0: promote it; anything
# else (worse, or no evidence): roll back.
# Usage: scripts/canary.sh STABLE_REVISION CANARY_REVISION
# Settings, the environment's: PROMETHEUS_URL, PROMETHEUS_TOKEN (a bearer for a managed
# Prometheus), CANARY_WINDOW_S (default 600), CANARY_REVISION_LABEL (the metrics' label
# naming a revision; default revision).
set -euo pipefail
stable=${1:?usage: scripts/canary.sh STABLE_REVISION CANARY_REVISION}
canary=${2:?usage: scripts/canary.sh STABLE_REVISION CANARY_REVISION}
window=${CANARY_WINDOW_S:-600}
label=${CANARY_REVISION_LABEL:-revision}
prometheus=${PROMETHEUS_URL:?canary.sh: set PROMETHEUS_URL, the Prometheus API the service is scraped into}
if ! [[ "$window" =~ ^[1-9][0-9]{0,4}$ ]]; then
  echo "canary.sh: CANARY_WINDOW_S '$window' is not a number of seconds" >&2
  exit 2
fi
if ! [[ "$label" =~ ^[A-Za-z_][A-Za-z0-9_]{0,63}$ ]]; then
  echo "canary.sh: CANARY_REVISION_LABEL '$label' is not a label name" >&2
  exit 2
fi
for revision in "$stable" "$canary"; do
  if ! [[ "$revision" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ ]]; then
    echo "canary.sh: '$revision' is not a revision name" >&2
    exit 2
  fi
done
sleep "$window"
# The analysis is goldpath-runtime's (standard library only): the project's locked one.
python=(uv run --frozen python)
if [ -n "${CANARY_PYTHON:-}" ]; then
  python=("$CANARY_PYTHON")
elif ! command -v uv >/dev/null; then
  echo "canary.sh: uv is not installed (the platform's deploy stage installs it)" >&2
  exit 2
fi
"${python[@]}" -m goldpath_runtime.serving.canary --prometheus "$prometheus" \
  --stable "$label=\"$stable\"" --canary "$label=\"$canary\"" --window "${window}s"
