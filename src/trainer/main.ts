// Entry of the trainer child process (dist/trainer.js, started with child_process.fork): runs one training session
// and speaks the host↔trainer protocol over the IPC channel.
import type { HostToTrainer, TrainerToHost } from '../protocol/trainer';
import { TrainerLoop } from './trainerLoop';

function send(message: TrainerToHost): void {
  if (process.send && process.connected) process.send(message);
}

/** Gives the IPC channel time to flush the last messages before the process ends. */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 200);
}

function main(): void {
  if (!process.send) {
    process.stderr.write('segscope trainer: must be started by child_process.fork (it talks over IPC)\n');
    process.exit(2);
  }
  const loop = new TrainerLoop({ send, onRunEnded: (ok) => exitSoon(ok ? 0 : 1) });
  process.on('message', (message) => loop.handle(message as HostToTrainer));
  // The host went away: stop cleanly (checkpoint saved), then exit.
  process.on('disconnect', () => loop.stop());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => loop.stop());
  const fatal = (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    send({ type: 'trainer/error', message: e.message, stack: e.stack });
    exitSoon(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  send({ type: 'trainer/ready', pid: process.pid });
}

main();
