#!/usr/bin/env bash
# Installs what the end-to-end tests need, idempotently: apt packages (only if missing), the VS Code server +
# web workbench shipped in the code-server npm package (pinned, cached in .e2e-cache/), and the SegScope .vsix
# installed into an isolated extensions folder. Quick when everything is already there.
#
#   bash test/e2e/setup.sh [EXTENSIONS_DIR]
#   SEGSCOPE_E2E_CACHE=/some/dir   cache folder (default: <repo>/.e2e-cache, git-ignored)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${SEGSCOPE_E2E_CACHE:-$REPO/.e2e-cache}"
CODE_SERVER_VERSION=4.100.3          # = VS Code 1.100.3; its engines.node is 20, the project's Node
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
SERVER_MAIN="$CS_DIR/node_modules/code-server/lib/vscode/out/server-main.js"
VSIX="$CACHE/segscope.vsix"
EXTENSIONS_DIR="${1:-$CACHE/extensions}"

# The @vscode/ripgrep postinstall looks for its download cache under $TMPDIR (see below).
export TMPDIR="$CACHE/tmp"
mkdir -p "$TMPDIR"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
step() { printf '[e2e setup %3ss] %s\n' "$SECONDS" "$*"; }

step "apt packages"
needed=(chromium ripgrep build-essential python3 pkg-config libkrb5-dev)
missing=()
for p in "${needed[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  step "installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [[ "$node_major" != 20 ]]; then
  echo "code-server $CODE_SERVER_VERSION needs Node 20 (its postinstall checks engines.node); this is Node $(node -v)" >&2
  exit 1
fi

step "VS Code server (code-server $CODE_SERVER_VERSION) in $CS_DIR"
if [[ -f "$CS_DIR/.installed" && -f "$SERVER_MAIN" ]]; then
  echo "already installed"
else
  export npm_config_yes=true                            # node-pty's install runs `npx node-gyp`; without a TTY npx would cancel
  export npm_config_unsafe_perm=true                    # code-server's postinstall refuses to run as root without it
  export npm_config_dangerously_allow_all_scripts=true  # lets the nested `npm install` in lib/vscode run native builds
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR/packs"
  (cd "$CS_DIR/packs" && npm pack -q "code-server@$CODE_SERVER_VERSION" >/dev/null)
  tarball="$(ls "$CS_DIR"/packs/code-server-*.tgz)"
  # lib/vscode depends on @vscode/ripgrep, whose postinstall downloads rg from GitHub, which this network does
  # not reach. It first looks for $TMPDIR/vscode-ripgrep-cache-<pkg version>/ripgrep-<tag>-<target>.tar.gz:
  # put Debian's /usr/bin/rg there under the name it expects.
  rg_version="$(tar -xzOf "$tarball" package/lib/vscode/npm-shrinkwrap.json |
    node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>console.log(JSON.parse(s).packages["node_modules/@vscode/ripgrep"]?.version ?? ""))')"
  if [[ -n "$rg_version" ]]; then
    (cd "$CS_DIR/packs" && npm pack -q "@vscode/ripgrep@$rg_version" >/dev/null)
    rg_tag="$(tar -xzOf "$CS_DIR"/packs/vscode-ripgrep-*.tgz package/lib/postinstall.js | sed -n "s/^const VERSION = '\(.*\)';/\1/p")"
    mkdir -p "$TMPDIR/vscode-ripgrep-cache-$rg_version"
    tar -czf "$TMPDIR/vscode-ripgrep-cache-$rg_version/ripgrep-$rg_tag-x86_64-unknown-linux-musl.tar.gz" -C /usr/bin rg
    step "seeded the ripgrep download cache ($rg_tag) with /usr/bin/rg"
  fi
  echo '{"name":"segscope-e2e-code-server","private":true}' > "$CS_DIR/package.json"
  # code-server's postinstall runs `npm install` in lib/vscode, which builds node-pty and friends natively.
  (cd "$CS_DIR" && npm install --no-save --no-package-lock "$tarball")
  HOME="$TMPDIR" node "$SERVER_MAIN" --version | head -1
  touch "$CS_DIR/.installed"
fi

step "package the extension"
if [[ ! -f "$REPO/dist/extension.js" ]]; then
  echo "dist/extension.js is missing: run 'npm run build' first (src/extension.ts must exist)" >&2
  exit 1
fi
# Everything is bundled into dist/ by esbuild, so the .vsix carries no node_modules.
(cd "$REPO" && npx --no-install vsce package --no-dependencies --skip-license --allow-missing-repository -o "$VSIX" >/dev/null)
step "built $VSIX ($(du -h "$VSIX" | cut -f1))"

step "install it into $EXTENSIONS_DIR"
mkdir -p "$EXTENSIONS_DIR" "$CACHE/install-home"
HOME="$CACHE/install-home" XDG_CACHE_HOME="$CACHE/install-home/.cache" XDG_CONFIG_HOME="$CACHE/install-home/.config" \
  node "$SERVER_MAIN" --server-data-dir "$CACHE/install-server-data" --user-data-dir "$CACHE/install-user-data" \
  --extensions-dir "$EXTENSIONS_DIR" --install-extension "$VSIX" --force | grep -v '^Installing extensions' || true
ls "$EXTENSIONS_DIR" | grep -q '^segscope\.segscope-' || { echo "the .vsix did not install into $EXTENSIONS_DIR" >&2; exit 1; }
step "setup done"
