// Behaves like the VS Code executable that runTests() spawns, but runs the suite in the offline VS Code server:
// takes --extensionDevelopmentPath=P (repeatable), --extensionTestsPath=T, --extensions-dir=E and a folder, ignores
// Electron-only flags, starts a server on a free loopback port, runs T in its extension host and exits with T's result.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { runExtensionTests } from '../support/extensionTests';
import { CACHE } from '../support/paths';
import { freePort, startServer } from '../support/server';

interface ShimArguments {
  developmentPaths: string[];
  testsPath?: string;
  extensionsDir?: string;
  folder?: string;
}

function parseArguments(argv: string[]): ShimArguments {
  const parsed: ShimArguments = { developmentPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const [key, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (key === '--extensionDevelopmentPath') parsed.developmentPaths.push(value());
    else if (key === '--extensionTestsPath') parsed.testsPath = value();
    else if (key === '--extensions-dir') parsed.extensionsDir = value();
    else if (key === '--user-data-dir') value(); // the server gets a fresh one below
    else if (!arg.startsWith('-')) parsed.folder = path.resolve(arg);
  }
  return parsed;
}

async function main(): Promise<number> {
  const args = parseArguments(process.argv.slice(2));
  if (!args.testsPath || args.developmentPaths.length === 0) {
    console.error('codeShim: needs --extensionTestsPath and --extensionDevelopmentPath');
    return 2;
  }
  mkdirSync(path.join(CACHE, 'tmp'), { recursive: true });
  const stateDir = mkdtempSync(path.join(CACHE, 'tmp', 'code-shim-'));
  const extensionsDir = args.extensionsDir ?? path.join(stateDir, 'extensions');
  const server = await startServer({ port: await freePort(), stateDir, extensionsDir });
  console.log(`codeShim: VS Code server at ${server.url}, state in ${stateDir}`);
  let code = 1;
  try {
    code = await runExtensionTests({
      baseUrl: server.url, developmentPaths: args.developmentPaths, testsPath: args.testsPath, folder: args.folder,
    });
  } catch (error) {
    console.error(`codeShim: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await server.stop();
  }
  if (code === 0) rmSync(stateDir, { recursive: true, force: true });
  else console.error(`codeShim: logs kept in ${stateDir} (server.log, user-data/logs/)`);
  return code;
}

main().then((code) => process.exit(code === 0 ? 0 : 1), (error: unknown) => {
  console.error('codeShim:', error);
  process.exit(1);
});
