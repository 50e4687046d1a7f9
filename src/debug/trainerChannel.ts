// The debug runtime's view of a trainer process: send typed messages, hear typed messages and the exit. The default
// starts the trainer through the shared launcher (src/trainer/launcher.ts); tests can script a trainer in-process instead.
import type { HostToTrainer, TrainerToHost } from '../protocol/trainer';
import { forkLauncher } from '../trainer/launcher';

export interface TrainerChannelEvents {
  message(message: TrainerToHost): void;
  /** The process wrote to stderr or stdout (shown in the Debug Console, kept for crash reports). */
  stderr(text: string): void;
  exit(code: number | null, signal: string | null): void;
}

export interface TrainerChannel {
  send(message: HostToTrainer): void;
  kill(): void;
}

export type TrainerStarter = (events: TrainerChannelEvents) => TrainerChannel;

/** Starts `script` (dist/trainer.js, or a .ts trainer run through tsx) as a child process through the shared launcher. */
export function forkTrainer(script: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): TrainerStarter {
  const launch = forkLauncher(script, options);
  return (events) => {
    const link = launch({
      onMessage: (message) => events.message(message),
      onStderr: (text) => events.stderr(text),
      onStdout: (text) => events.stderr(text),
      onExit: (code, signal) => events.exit(code, signal),
    });
    return { send: (message) => link.send(message), kill: () => link.kill() };
  };
}
