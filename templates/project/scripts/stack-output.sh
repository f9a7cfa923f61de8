#!/usr/bin/env bash
# One output of the service stack, from service-stack.json (SERVICE_STACK_OUTPUTS, which
# scripts/service-stack.sh up wrote). A missing one is named, never an empty string.
# Usage: scripts/stack-output.sh KEY
set -euo pipefail
key=${1:?usage: scripts/stack-output.sh KEY}
outputs=${SERVICE_STACK_OUTPUTS:-service-stack.json}
if [ ! -f "$outputs" ]; then
  echo "stack-output.sh: $outputs is missing: run scripts/service-stack.sh up <stack> first" >&2
  exit 1
fi
jq -er --arg key "$key" \
  'if (.[$key] | type) == "string" and (.[$key] | test("\\A[^\n\r]{1,2048}\\z"))
   then .[$key] else error("the service stack exports no one-line \($key)") end' "$outputs"
