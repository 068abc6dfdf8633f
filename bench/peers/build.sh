#!/bin/sh
# Installs the pinned peers (package-lock.json) and bundles them into dist/.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
node build.mjs
