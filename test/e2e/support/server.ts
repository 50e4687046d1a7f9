// Starts the real VS Code server (from the code-server npm package) on loopback with all state in one throw-away folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { SERVER_MAIN } from './paths';

export interface ServerOptions {
  port: number;
  /** Everything the server writes (user data, server data, private HOME, log) goes below this folder. */
  stateDir: string;
  extensionsDir: string;
  /** User settings merged over the defaults below. */
  settings?: Record<string, unknown>;
}

export interface RunningServer {
  url: string;
  process: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

/** Settings that keep the workbench quiet and offline: no welcome page, no trust prompt, no telemetry, no updates, no git. */
export const QUIET_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'npm.autoDetect': 'off',
};

/**
 * HOME and XDG folders of their own: the server writes ~/.cache/Microsoft/DeveloperTools/deviceid and
 * ~/.vscode-server-oss, chromium writes ~/.config/chromium; none of it may land in the real home.
 */
export function privateHome(dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  return {
    HOME: dir,
    XDG_CONFIG_HOME: path.join(dir, '.config'),
    XDG_CACHE_HOME: path.join(dir, '.cache'),
    XDG_DATA_HOME: path.join(dir, '.local', 'share'),
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export function userDataDir(stateDir: string): string {
  return path.join(stateDir, 'user-data');
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  if (!existsSync(SERVER_MAIN)) throw new Error(`VS Code server not installed at ${SERVER_MAIN}: run bash test/e2e/setup.sh`);
  const { port, stateDir, extensionsDir } = options;
  const userData = userDataDir(stateDir);
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(path.join(userData, 'User', 'settings.json'),
    JSON.stringify({ ...QUIET_SETTINGS, ...options.settings }, null, 2));
  const logFile = path.join(stateDir, 'server.log');
  const log = openSync(logFile, 'a');
  const args = [
    SERVER_MAIN, '--host', '127.0.0.1', '--port', String(port),
    '--without-connection-token', '--accept-server-license-terms',
    '--disable-telemetry', '--disable-workspace-trust',
    // Built workbenches honour the extensionTestsPath `payload` only with the smoke-test driver enabled.
    '--enable-smoke-test-driver',
    '--server-data-dir', path.join(stateDir, 'server-data'),
    '--user-data-dir', userData,
    '--extensions-dir', extensionsDir,
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...privateHome(path.join(stateDir, 'home')), EXTENSIONS_GALLERY: '{}' }, // '{}': no marketplace lookups
    stdio: ['ignore', log, log],
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`VS Code server exited with code ${child.exitCode}; see ${logFile}`);
    try {
      if ((await fetch(`${url}/version`)).ok) return { url, process: child, logFile, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`VS Code server did not answer ${url}/version within 60 s; see ${logFile}`);
}
