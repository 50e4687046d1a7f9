// Starts a trainer child process (the real dist/trainer.js or a test double such as test/fixtures/fakeTrainer.ts) and wires its IPC, stderr and exit to callbacks. Pure Node: no vscode.
import { fork, type ChildProcess } from 'node:child_process';
import type { HostToTrainer, TrainerToHost } from '../protocol/trainer';

export interface TrainerLinkEvents {
  onMessage(message: TrainerToHost): void;
  onStderr(text: string): void;
  onStdout(text: string): void;
  onExit(code: number | null, signal: string | null): void;
}

/** The host's handle on one trainer process. */
export interface TrainerLink {
  readonly pid: number | undefined;
  send(message: HostToTrainer): void;
  kill(signal?: NodeJS.Signals): void;
}

export type TrainerLauncher = (events: TrainerLinkEvents) => TrainerLink;

export interface ForkOptions {
  /** Working directory of the child (TypeScript trainers resolve `tsx` from here). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Old-space limit for the child in MB (the trainer's heap, not the host's). */
  maxOldSpaceMb?: number;
}

/** A launcher that forks `scriptPath`; a .ts script runs through tsx (used for the fake trainer in tests). */
export function forkLauncher(scriptPath: string, options: ForkOptions = {}): TrainerLauncher {
  return (events) => {
    const execArgv: string[] = [];
    if (/\.[cm]?ts$/.test(scriptPath)) execArgv.push('--import', 'tsx');
    if (options.maxOldSpaceMb) execArgv.push(`--max-old-space-size=${options.maxOldSpaceMb}`);
    const child: ChildProcess = fork(scriptPath, [], {
      cwd: options.cwd, env: { ...process.env, ...options.env }, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.stderr?.setEncoding('utf8').on('data', (text: string) => events.onStderr(text));
    child.stdout?.setEncoding('utf8').on('data', (text: string) => events.onStdout(text));
    child.on('message', (message) => events.onMessage(message as TrainerToHost));
    child.on('error', (error) => events.onStderr(`failed to start the trainer: ${error.message}\n`));
    child.on('exit', (code, signal) => events.onExit(code, signal));
    return {
      get pid() { return child.pid; },
      send: (message) => { if (child.connected) child.send(message); },
      kill: (signal = 'SIGTERM') => { if (child.exitCode === null && child.signalCode === null) child.kill(signal); },
    };
  };
}
