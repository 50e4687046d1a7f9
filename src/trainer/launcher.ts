// Starts a trainer child process through TrainerConnection (the real dist/trainer.js, or a .ts test double run through tsx) and wires its messages, output and exit to callbacks; shared by the host and the debug runtime. No vscode.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HostToTrainer, TrainerToHost } from '../protocol/trainer';
import { TrainerConnection } from './connection';

export interface TrainerLinkEvents {
  onMessage(message: TrainerToHost): void;
  onStderr(text: string): void;
  onStdout(text: string): void;
  onExit(code: number | null, signal: string | null): void;
}

/** The host's handle on one trainer process. */
export interface TrainerLink {
  send(message: HostToTrainer): void;
  /** SIGTERM (the trainer checkpoints), SIGKILL after a grace period; `force` kills at once. */
  kill(force?: boolean): void;
}

export type TrainerLauncher = (events: TrainerLinkEvents) => TrainerLink;

export interface ForkOptions {
  /** Working directory of the child (TypeScript trainers resolve `tsx` from here). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** A launcher that forks `scriptPath`; messages sent before the trainer is ready are queued. */
export function forkLauncher(scriptPath: string, options: ForkOptions = {}): TrainerLauncher {
  return (events) => {
    let connection: TrainerConnection | undefined;
    let killed = false;
    const queued: HostToTrainer[] = [];
    const send = (c: TrainerConnection, message: HostToTrainer) => {
      try { c.send(message); } catch (error) { events.onStderr(`${(error as Error).message}\n`); }
    };
    TrainerConnection.start({
      modulePath: scriptPath,
      execArgv: /\.[cm]?ts$/.test(scriptPath) ? ['--import', tsxLoaderFor(scriptPath)] : [],
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }).then((started) => {
      connection = started;
      started.child.stderr?.setEncoding('utf8').on('data', (text: string) => events.onStderr(text));
      started.child.stdout?.setEncoding('utf8').on('data', (text: string) => events.onStdout(text));
      started.onMessage((message) => events.onMessage(message));
      started.onExit(({ code, signal }) => events.onExit(code, signal));
      if (killed) { void started.dispose(); return; }
      // TrainerConnection.start consumed the trainer's own `trainer/ready`: pass it on, then what was sent meanwhile.
      events.onMessage({ type: 'trainer/ready', pid: started.pid ?? 0 });
      for (const message of queued.splice(0)) send(started, message);
    }, (error: Error) => {
      events.onStderr(`could not start the trainer ${scriptPath}: ${error.message}\n`);
      events.onExit(1, null);
    });
    return {
      send: (message) => (connection ? send(connection, message) : queued.push(message)),
      kill: (force = false) => {
        killed = true;
        if (force) connection?.child.kill('SIGKILL');
        else void connection?.dispose();
      },
    };
  };
}

/** The tsx loader nearest to a TypeScript trainer (its repository's node_modules), so it runs from any working directory. */
export function tsxLoaderFor(scriptPath: string): string {
  for (let dir = path.dirname(path.resolve(scriptPath)); ; dir = path.dirname(dir)) {
    const loader = path.join(dir, 'node_modules', 'tsx', 'dist', 'loader.mjs');
    if (existsSync(loader)) return pathToFileURL(loader).href;
    if (path.dirname(dir) === dir) return 'tsx';
  }
}
