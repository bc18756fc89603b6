#!/usr/bin/env bash
# Fails when graph_service/explorer/static is not what the sources in web/explorer build to:
# installs the locked dependencies, builds into a temp folder and compares byte for byte.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
committed="$here/../../graph_service/explorer/static"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
EXPLORER_OUT_DIR="$out" npm run build --prefix "$here" --silent
if ! diff -r "$out" "$committed"; then
  echo "graph_service/explorer/static is stale: run 'make explorer' and commit the result" >&2
  exit 1
fi
echo "explorer build is up to date"
