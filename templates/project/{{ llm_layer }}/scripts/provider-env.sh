#!/usr/bin/env bash
# The LLM provider settings dev's service stack exports (`providerEnv`), as KEY=value lines
# for the evaluation gate on main. Which provider a cloud uses is decided once, by
# goldpath_infra's service stack; the pipelines only read it. Runs after the cloud login
# (the identity reads the platform's state backend).
set -euo pipefail
: "${PULUMI_BACKEND_URL:?PULUMI_BACKEND_URL: the platform state backend (README, One-time setup)}"
export PATH="$HOME/.pulumi/bin:$PATH"
cd "$(dirname "$0")/../infra"
pulumi login "$PULUMI_BACKEND_URL" >&2
# Names and values land in a CI system's environment file: one line each, names only, and
# all of them or none (a setting refused halfway must not leave the first ones behind).
pulumi stack output providerEnv --stack "${PROVIDER_STACK:-dev}" --json | jq -er '
  if type != "object" or length == 0 then error("the dev stack exports no providerEnv") else . end
  | to_entries
  | if all(.[]; (.key | test("\\A[A-Z][A-Z0-9_]{0,63}\\z")) and (.value | type) == "string"
              and (.value | test("\\A[^\n\r]{1,2048}\\z")))
    then .[] | "\(.key)=\(.value)"
    else error("providerEnv holds an unusable entry: names are A-Z0-9_, values one line")
    end'
