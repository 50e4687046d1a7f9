// `segscope train <segscope.json> [--epochs N] [--json] [--backend B] [--resume <runDir>] [--trust]`: a headless run.
import type { BackendChoice } from '../../protocol/config';
import { loadConfig } from '../../config/load';
import { TrainingSession } from '../../engine/session/trainingSession';
import { onePositional, parseArgs, printedHelp, UsageError } from '../args';
import { ProgressDisplay } from '../progress';

export const TRAIN_USAGE = 'usage: segscope train <segscope.json> [--epochs N] [--json] [--backend auto|wasm|cpu|tensorflow|tensorflow-gpu] [--resume <runDir>] [--trust]';

const BACKENDS: BackendChoice[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export async function run(args: string[]): Promise<number> {
  if (printedHelp(args, TRAIN_USAGE)) return 0;
  const parsed = parseArgs(args, {
    epochs: { kind: 'int' }, json: { kind: 'flag' }, backend: { kind: 'string' }, resume: { kind: 'string' },
    trust: { kind: 'flag' },
  });
  const configArg = onePositional(parsed, 'segscope.json', TRAIN_USAGE);
  const { options } = parsed;
  const backend = options.backend as BackendChoice | undefined;
  if (backend !== undefined && !BACKENDS.includes(backend)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}`);
  if (options.epochs === 0) throw new UsageError('--epochs must be at least 1');
  const json = options.json === true;
  const { config, configPath } = loadConfig(configArg);
  if ((config.loss?.module || config.metrics?.module) && !options.trust) {
    throw new Error(`${configPath} loads user code (loss.module / metrics.module); run again with --trust if you trust it`);
  }
  if (config.metrics?.module) process.stderr.write('warning: metrics.module is not supported by the training engine yet; it is ignored\n');

  const display = json ? undefined : new ProgressDisplay({
    write: (text) => process.stdout.write(text), isTTY: process.stdout.isTTY === true, columns: process.stdout.columns,
  });
  const session = await TrainingSession.open({
    configPath, config, resumeRunDir: options.resume as string | undefined, backend, trust: options.trust === true,
    epochs: options.epochs as number | undefined,
    onEvent: (event) => {
      if (json) process.stdout.write(JSON.stringify(event) + '\n');
      else display!.handle(event);
    },
  });
  // First Ctrl-C / SIGTERM: stop at the next batch boundary with a checkpoint; a second one quits at once.
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(130);
    if (!json) process.stderr.write(`\n${signal}: stopping after this batch (checkpoint saved); press again to quit now\n`);
    session.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await session.run();
    if (result.status === 'crashed') throw new Error(result.error ?? 'training crashed');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    session.dispose();
  }
}
