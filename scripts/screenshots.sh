#!/usr/bin/env bash
# Builds, starts maildev, a silo and the portal on free loopback ports with some real data, signs in as an
# administrator, and writes a PNG of every portal page in the light and the dark theme to OUT_DIR
# (default: screenshots/). Needs /usr/bin/chromium (apt-get install -y chromium) and maildev 3 (npm).
# Everything it starts is stopped when it ends. docs/portal.md, "Browser tests and screenshots".
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-screenshots}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
dotnet build Telemetry.Orleans.sln -v q -nologo
SCREENSHOTS_DIR="$out" dotnet test tests/Telemetry.Tests --no-build -nologo \
    --filter "FullyQualifiedName~Telemetry.Tests.Browser.PortalScreenshots"
echo "screenshots in $out:"
ls "$out"
