#!/usr/bin/env bash
# `npm test`: every test there is — formatting, lint, types, unit and integration tests (real Postgres + Redis),
# the production build, and the Playwright end-to-end suite in Chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_NO_CLOUD=true NEXT_TELEMETRY_DISABLED=1 NX_TUI=false

echo "==> formatting (Prettier; npm run format fixes it)"
npx prettier --check . --log-level warn

echo "==> lint, typecheck, unit + integration tests, build"
npx nx run-many -t lint typecheck test build --output-style=static

echo "==> end-to-end (production build, Chromium)"
npx nx run @fleetplane/web-e2e:e2e --output-style=static
