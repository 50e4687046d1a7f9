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

/**
 * A launcher that forks `scriptPath`; messages sent before the trainer is ready are queued. Its output is read from the
 * start, so a trainer that dies before it is ready still leaves its last stderr lines; `onExit` comes after them, and
 * nothing is passed on after it (a grandchild may keep the pipes open).
 */
export function forkLauncher(scriptPath: string, options: ForkOptions = {}): TrainerLauncher {
  return (events) => {
    let ready = false;
    let killed = false;
    let exited = false;
    const queued: HostToTrainer[] = [];
    let trainer: TrainerConnection;
    try {
      trainer = TrainerConnection.fork({
        modulePath: scriptPath,
        execArgv: /\.[cm]?ts$/.test(scriptPath) ? ['--import', tsxLoaderFor(scriptPath)] : [],
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
    } catch (error) {
      // fork throws for some spawn errors (others arrive as events); report it like any failed start, after this call.
      queueMicrotask(() => {
        events.onStderr(`could not start the trainer ${scriptPath}: ${(error as Error).message}\n`);
        events.onExit(1, null);
      });
      return { send: () => undefined, kill: () => undefined };
    }
    const send = (message: HostToTrainer) => {
      try { trainer.send(message); } catch (error) { events.onStderr(`${(error as Error).message}\n`); }
    };
    trainer.child.stderr?.setEncoding('utf8').on('data', (text: string) => { if (!exited) events.onStderr(text); });
    trainer.child.stdout?.setEncoding('utf8').on('data', (text: string) => { if (!exited) events.onStdout(text); });
    trainer.onMessage((message) => {
      if (ready) { events.onMessage(message); return; }
      if (message.type !== 'trainer/ready') return;
      ready = true;
      if (killed) { void trainer.dispose(); return; }
      events.onMessage(message);
      for (const message of queued.splice(0)) send(message);
    });
    trainer.onExit(({ code, signal }) => {
      exited = true;
      if (ready) { events.onExit(code, signal); return; }
      // Never ready: say why (the rejection names a spawn error or the exit code), then report the exit.
      trainer.whenReady().then(() => events.onExit(code, signal), (error: Error) => {
        events.onStderr(`could not start the trainer ${scriptPath}: ${error.message}\n`);
        events.onExit(code, signal);
      });
    });
    return {
      send: (message) => (ready ? send(message) : queued.push(message)),
      kill: (force = false) => {
        killed = true;
        if (!ready) return;
        if (force) trainer.child.kill('SIGKILL');
        else void trainer.dispose();
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
