#!/usr/bin/env bash
# The end-to-end layer (`npm run test:e2e`): installs what it needs (setup.sh), starts the VS Code server on loopback,
# runs the UI suite (chromium + playwright-core) and the extension-host suite through both launchers, then stops
# everything it started, whatever happens. Prints what a failing test waited for, its screenshot and the logs' tails.
#
#   bash test/e2e/run.sh [FILE.e2e.test.ts ...]   only these node:test files (instead of ui/*.e2e.test.ts + the offline launcher)
#   E2E_SUITES=ui,exthost,electron   which suites to run (default: all three)
#   E2E_TEST_NAME_PATTERN=regex      only node:test tests whose name matches
#   SEGSCOPE_EXTHOST_GREP=regex      only extension-host mocha tests whose title matches
#   E2E_TRAINER=fake                 use test/fixtures/fakeTrainer.ts instead of the real trainer (dist/trainer.js)
#   E2E_TIMEOUT=900                  seconds before the whole run is stopped
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${SEGSCOPE_E2E_CACHE:-$REPO/.e2e-cache}"
STATE="$CACHE/last-run"           # throw-away: user data, server data, private HOME, workspaces, logs of this run
RESULTS="$REPO/test-results/e2e"

# --- outer part: run everything below in a process group of its own and end that group on the way out --------
if [[ -z "${SEGSCOPE_E2E_INNER:-}" ]]; then
  # One run per checkout at a time: they share .e2e-cache/last-run, out/e2e-exthost and test-results/e2e.
  mkdir -p "$CACHE"
  exec 9>"$CACHE/run.lock"
  if ! flock -n 9; then
    echo "e2e: another test/e2e/run.sh is running in this checkout; waiting for it to finish (up to 20 min)"
    flock -w 1200 9 || { echo "e2e: gave up waiting for the other run" >&2; exit 1; }
  fi
  SEGSCOPE_E2E_INNER=1 setsid bash "${BASH_SOURCE[0]}" "$@" 9>&- &
  group=$!
  watchdog=
  end_group() {
    trap - EXIT INT TERM
    [[ -n "$watchdog" ]] && kill "$watchdog" 2>/dev/null
    if kill -0 -- "-$group" 2>/dev/null; then
      kill -TERM -- "-$group" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 -- "-$group" 2>/dev/null || break; sleep 0.2; done
      kill -KILL -- "-$group" 2>/dev/null || true
    fi
  }
  trap end_group EXIT
  trap 'echo "e2e: interrupted" >&2; exit 130' INT TERM
  ( sleep "${E2E_TIMEOUT:-900}"; echo "e2e: stopped after ${E2E_TIMEOUT:-900} s (E2E_TIMEOUT)" >&2; kill -TERM -- "-$group" ) 9>&- &
  watchdog=$!
  rc=0
  wait "$group" || rc=$?
  end_group
  exit "$rc"
fi

# --- inner part ---------------------------------------------------------------------------------------------------
cd "$REPO"
IFS=, read -r -a SUITES <<< "${E2E_SUITES:-ui,exthost,electron}"
wants() { [[ " ${SUITES[*]} " == *" $1 "* ]]; }
step() { printf '\n[e2e %4ss] %s\n' "$SECONDS" "$*"; }
TSX=(node --import "$REPO/node_modules/tsx/dist/loader.mjs")

rm -rf "$STATE" "$RESULTS" "$CACHE"/tmp/code-shim-* "$CACHE"/tmp/test-electron-* "$CACHE"/tmp/vscode-ipc-*.sock
mkdir -p "$STATE/workspaces" "$RESULTS"
export TMPDIR="$CACHE/tmp"        # the server puts its IPC sockets there; keeps /tmp clean
mkdir -p "$TMPDIR"

step "build"
node scripts/build.mjs
step "setup"
bash test/e2e/setup.sh "$STATE/extensions"

step "bundle the extension-host suite"
rm -rf out/e2e-exthost
npx --no-install esbuild test/e2e/extHost/suite/*.ts --bundle --platform=node --format=cjs --target=node20 \
  --external:vscode --external:mocha --sourcemap --log-level=warning --outdir=out/e2e-exthost

server_pid=
stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap stop_server EXIT

failed=()
print_failure_details() {
  echo
  echo "================ e2e failure details ================"
  echo "failed: ${failed[*]}"
  if [[ -f "$RESULTS/last-failure.txt" ]]; then
    echo "--- what the last failing UI test waited for (test-results/e2e/last-failure.txt)"
    cat "$RESULTS/last-failure.txt"
  fi
  local shot
  shot="$(ls -t "$RESULTS"/*.png 2>/dev/null | head -1 || true)"
  echo "--- last screenshot: ${shot:-(none)}"
  echo "--- tail of the VS Code server log ($STATE/server.log)"
  tail -n 30 "$STATE/server.log" 2>/dev/null || true
  # Extension host logs: the server writes them under <user-data>/logs/<time>/exthost*/; output channels of
  # extensions (SegScope's, with the trainer's stderr) go to exthost*/output_logging_*/N-<name>.log or exthost*/<extension id>/.
  local log
  while IFS= read -r log; do
    echo "--- tail of $log"
    tail -n 40 "$log"
  done < <(find "$STATE/user-data/logs" "$CACHE"/tmp/code-shim-*/user-data/logs -type f \
             \( -iname '*segscope*' -o -name 'remoteexthost.log' \) 2>/dev/null | sort)
  # The trainer's own record: the last events of each run the tests started (run/end carries a crash's error).
  while IFS= read -r log; do
    echo "--- tail of the trainer's $log"
    tail -n 5 "$log" | cut -c1-400
  done < <(find "$STATE/workspaces" "$CACHE"/tmp/test-electron-* -path '*/.segscope/runs/*' -name 'events.jsonl' 2>/dev/null | sort)
  mkdir -p "$RESULTS/logs"
  cp -r "$STATE/server.log" "$STATE/user-data/logs" "$RESULTS/logs/" 2>/dev/null || true
  echo "--- logs copied to $RESULTS/logs"
}

if [[ "${E2E_TRAINER:-real}" == fake ]]; then
  # The extension host inherits the server's environment; the extension forks this instead of dist/trainer.js.
  export SEGSCOPE_TRAINER="$REPO/test/fixtures/fakeTrainer.ts"
fi

step "start the VS Code server"
"${TSX[@]}" test/e2e/support/serveMain.ts --state "$STATE" --extensions "$STATE/extensions" &
server_pid=$!
for _ in $(seq 1 600); do
  [[ -s "$STATE/server-url" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$STATE/server.log" 2>/dev/null | tail -30; echo "e2e: the VS Code server did not start" >&2; exit 1; }
  sleep 0.1
done
[[ -s "$STATE/server-url" ]] || { echo "e2e: the VS Code server did not answer within 60 s" >&2; exit 1; }
export E2E_URL="$(cat "$STATE/server-url")" E2E_STATE="$STATE"

node_tests=("$@")
if ((${#node_tests[@]} == 0)); then
  wants ui && node_tests+=(test/e2e/ui/*.e2e.test.ts)
  wants exthost && node_tests+=(test/e2e/extHost/offline.e2e.test.ts)
fi
if ((${#node_tests[@]})); then
  step "node:test suites: ${node_tests[*]}"
  pattern=()
  [[ -n "${E2E_TEST_NAME_PATTERN:-}" ]] && pattern=(--test-name-pattern "$E2E_TEST_NAME_PATTERN")
  "${TSX[@]}" --test --test-concurrency=1 --test-reporter=spec "${pattern[@]}" "${node_tests[@]}" || failed+=("node:test suites")
fi

if wants electron && (($# == 0)); then
  step "extension-host suite through @vscode/test-electron runTests() + codeShim.sh"
  SEGSCOPE_VSCODE_EXECUTABLE="$REPO/test/e2e/extHost/codeShim.sh" "${TSX[@]}" test/e2e/extHost/runTestElectron.ts \
    || failed+=("extension-host suite via runTests")
fi

stop_server
step "done in ${SECONDS}s; screenshots in test-results/e2e/"
if ((${#failed[@]})); then
  print_failure_details
  exit 1
fi
