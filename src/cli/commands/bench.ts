// `segscope bench [--size 128] [--batch 8] [--backend auto] [--steps N] [--warmup N] [--json]`: training and inference
// speed of the fixed bench model, one line in the shape of peers/torch_bench.py.
import type { BackendChoice } from '../../protocol/config';
import { BENCH_DEFAULTS, runBench } from '../../engine/train/bench';
import { parseArgs, printedHelp, UsageError } from '../args';

export const BENCH_USAGE = 'usage: segscope bench [--size 128] [--batch 8] [--backend auto|wasm|cpu|tensorflow|tensorflow-gpu] [--steps 8] [--warmup 3] [--json]';

export async function run(args: string[]): Promise<number> {
  if (printedHelp(args, BENCH_USAGE)) return 0;
  const { positional, options } = parseArgs(args, {
    size: { kind: 'int' }, batch: { kind: 'int' }, backend: { kind: 'string' }, steps: { kind: 'int' }, warmup: { kind: 'int' },
    json: { kind: 'flag' },
  });
  if (positional.length) throw new UsageError(`bench takes no file arguments\n${BENCH_USAGE}`);
  const size = (options.size as number | undefined) ?? BENCH_DEFAULTS.size;
  const batch = (options.batch as number | undefined) ?? BENCH_DEFAULTS.batch;
  const steps = (options.steps as number | undefined) ?? BENCH_DEFAULTS.steps;
  if (size < 32 || size % 16 !== 0) throw new UsageError('--size must be a multiple of 16, at least 32 (output stride 16)');
  if (batch < 1 || steps < 1) throw new UsageError('--batch and --steps must be at least 1');
  const result = await runBench({
    size, batch, steps,
    backend: (options.backend as BackendChoice | undefined) ?? BENCH_DEFAULTS.backend,
    warmup: (options.warmup as number | undefined) ?? BENCH_DEFAULTS.warmup,
  }, options.json ? undefined : (b) => console.error(`backend ${b.name} (${b.reason})${b.threads ? `, ${b.threads} thread(s)` : ''}${b.simd !== undefined ? `, simd ${b.simd}` : ''}${b.nativeKernels ? `, SegScope SIMD kernels ${'threads' in b.nativeKernels ? `on ${b.nativeKernels.threads} thread(s)${b.nativeKernels.fma ? ' with fused multiply-add' : ''}` : `off (${b.nativeKernels.off})`}` : ''}`));
  if (options.json) console.log(JSON.stringify(result));
  else console.log(`${result.backend}: ${result.size}² batch ${result.batch}, ${result.params.toLocaleString('en-US')} params: `
    + `train ${result.trainImagesPerSec} img/s (median step ${result.stepMsMedian} ms), infer ${result.inferImagesPerSec} img/s`);
  return 0;
}
