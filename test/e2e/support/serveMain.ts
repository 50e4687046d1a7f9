// run.sh's server launcher: starts the VS Code server on a free loopback port, writes its URL to <state>/server-url, stays until signalled.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, startServer } from './server';

function option(name: string): string {
  const index = process.argv.indexOf(name);
  const value = index > 0 ? process.argv[index + 1] : undefined;
  if (!value) throw new Error(`serveMain: missing ${name} <dir>`);
  return path.resolve(value);
}

async function main(): Promise<void> {
  const stateDir = option('--state');
  const server = await startServer({ port: await freePort(), stateDir, extensionsDir: option('--extensions') });
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      stopping = true;
      void server.stop().then(() => process.exit(0));
    });
  }
  writeFileSync(path.join(stateDir, 'server-url'), server.url);
  console.log(`VS Code server ${await (await fetch(`${server.url}/version`)).text()} at ${server.url} (log ${server.logFile})`);
  server.process.once('exit', (code) => {
    if (stopping) return;
    console.error(`VS Code server exited (${code}); see ${server.logFile}`);
    process.exit(1);
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
