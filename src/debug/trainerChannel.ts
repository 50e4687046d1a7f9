// The debug runtime's view of a trainer process: send typed messages, hear typed messages and the exit. The default
// starts the trainer through TrainerConnection (src/trainer/connection.ts); tests can script a trainer in-process instead.
import type { HostToTrainer, TrainerToHost } from '../protocol/trainer';
import { TrainerConnection } from '../trainer/connection';

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

/** Starts `script` (dist/trainer.js, or a .ts trainer run through tsx) as a child process with a TrainerConnection. */
export function forkTrainer(script: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): TrainerStarter {
  return (events) => {
    let connection: TrainerConnection | undefined;
    let killed = false;
    const waiting: HostToTrainer[] = [];
    TrainerConnection.start({
      modulePath: script,
      execArgv: /\.[cm]?ts$/.test(script) ? ['--import', 'tsx'] : [],
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }).then((started) => {
      connection = started;
      started.child.stderr?.setEncoding('utf8').on('data', (text: string) => events.stderr(text));
      started.child.stdout?.setEncoding('utf8').on('data', (text: string) => events.stderr(text));
      started.onMessage((message) => events.message(message));
      started.onExit(({ code, signal }) => events.exit(code, signal));
      if (killed) { void started.dispose(); return; }
      // TrainerConnection.start consumed the trainer's `trainer/ready`; pass it on, then what was sent meanwhile.
      events.message({ type: 'trainer/ready', pid: started.pid ?? 0 });
      for (const message of waiting.splice(0)) trySend(started, message, events);
    }, (error: Error) => {
      events.stderr(`${error.message}\n`);
      events.exit(null, null);
    });
    return {
      send: (message) => (connection ? trySend(connection, message, events) : waiting.push(message)),
      kill: () => {
        killed = true;
        void connection?.dispose();
      },
    };
  };
}

function trySend(connection: TrainerConnection, message: HostToTrainer, events: TrainerChannelEvents): void {
  try {
    connection.send(message);
  } catch (error) {
    events.stderr(`${(error as Error).message}\n`);
  }
}
