#!/usr/bin/env bash
# A stand-in "VS Code executable" for @vscode/test-electron's runTests({ vscodeExecutablePath }) where VS Code cannot be downloaded: see codeShim.ts.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
exec node --import "$REPO/node_modules/tsx/dist/loader.mjs" "$REPO/test/e2e/extHost/codeShim.ts" "$@"
