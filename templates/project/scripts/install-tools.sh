#!/usr/bin/env bash
# What a cloud job needs beside the cloud's own CLI image, for CI systems whose runners do
# not bring it (GitLab): uv, jq, the Pulumi CLI, and on request the Docker CLI with buildx
# (INSTALL_DOCKER=true) or the Databricks CLI (INSTALL_DATABRICKS=true), each at a pinned
# version. Installs into ~/.local/bin and ~/.pulumi/bin only.
set -euo pipefail
: "${UV_VERSION:?UV_VERSION: the uv release to install}"
: "${PULUMI_VERSION:?PULUMI_VERSION: the Pulumi CLI release to install}"
bin="$HOME/.local/bin"
mkdir -p "$bin"
export PATH="$bin:$PATH"

if ! command -v jq >/dev/null; then
  if command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq jq >/dev/null
  elif command -v tdnf >/dev/null; then
    tdnf install -y -q jq
  elif command -v apk >/dev/null; then
    apk add --no-cache jq
  else
    echo "install-tools.sh: no jq and no package manager to install it" >&2
    exit 1
  fi
fi
curl -fsSL "https://astral.sh/uv/${UV_VERSION}/install.sh" | env UV_INSTALL_DIR="$bin" sh >&2
curl -fsSL https://get.pulumi.com | sh -s -- --version "$PULUMI_VERSION" >&2
if [ "${INSTALL_DOCKER:-false}" = true ]; then
  docker_version=${DOCKER_VERSION:-27.3.1}
  buildx_version=${BUILDX_VERSION:-0.18.0}
  curl -fsSL "https://download.docker.com/linux/static/stable/x86_64/docker-${docker_version}.tgz" \
    | tar -xz -C "$bin" --strip-components=1 docker/docker
  mkdir -p "$HOME/.docker/cli-plugins"
  curl -fsSL -o "$HOME/.docker/cli-plugins/docker-buildx" \
    "https://github.com/docker/buildx/releases/download/v${buildx_version}/buildx-v${buildx_version}.linux-amd64"
  chmod +x "$HOME/.docker/cli-plugins/docker-buildx"
fi
if [ "${INSTALL_DATABRICKS:-false}" = true ]; then
  curl -fsSL "https://raw.githubusercontent.com/databricks/setup-cli/${SETUP_CLI_VERSION:-v1.13.0}/install.sh" | sh >&2
fi
