// `segscope export <runDir> [--out dir] [--h5]`: a run's checkpoint → a tfjs LayersModel folder (+ Keras .h5 weights).
import path from 'node:path';
import { exportRun } from '../../engine/userModel';
import { onePositional, parseArgs, printedHelp } from '../args';

const USAGE = 'usage: segscope export <runDir> [--out dir] [--h5]';

export async function run(args: string[]): Promise<number> {
  if (printedHelp(args, USAGE)) return 0;
  const parsed = parseArgs(args, { out: { kind: 'string' }, h5: { kind: 'flag' } });
  const runDir = path.resolve(onePositional(parsed, 'run folder', USAGE));
  const { options } = parsed;
  const outDir = path.resolve(typeof options.out === 'string' ? options.out : path.join(runDir, 'export'));
  // Tensors for export live on the cpu backend: nothing is trained, and it is always there.
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  const result = await exportRun(runDir, outDir, { h5: options.h5 === true });
  console.log(`exported ${result.layers} layers${result.epochsDone !== undefined ? ` (after epoch ${result.epochsDone})` : ''} to ${result.modelJson}`);
  if (result.h5) console.log(`keras weights: ${result.h5}`);
  return 0;
}
