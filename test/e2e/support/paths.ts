// Where the end-to-end layer keeps things: the repository, the git-ignored cache with the VS Code server, and test-results/.
import path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const CACHE = process.env.SEGSCOPE_E2E_CACHE ?? path.join(REPO, '.e2e-cache');
export const CODE_SERVER_VERSION = '4.100.3';
/** The VS Code server (remote extension host + web workbench) that ships inside the code-server npm package. */
export const SERVER_MAIN = path.join(CACHE, `code-server-${CODE_SERVER_VERSION}`, 'node_modules/code-server/lib/vscode/out/server-main.js');
/** Screenshots, copied logs and the last failure's summary; git-ignored. */
export const RESULTS = process.env.SEGSCOPE_E2E_RESULTS ?? path.join(REPO, 'test-results', 'e2e');
/** Where run.sh bundles the extension-host mocha suite (git-ignored). */
export const EXT_HOST_SUITE = path.join(REPO, 'out', 'e2e-exthost', 'index.js');
