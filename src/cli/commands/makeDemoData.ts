// `segscope make-demo-data <dir> [--classes K] [--count N] [--size S] [--seed X]`: writes the synthetic VOC-layout demo dataset.
import path from 'node:path';
import { makeDemoData } from '../../engine/data/demo';
import { onePositional, parseArgs, printedHelp } from '../args';

const USAGE = 'usage: segscope make-demo-data <dir> [--classes K] [--count N] [--size S] [--seed X]';

export async function run(args: string[]): Promise<number> {
  if (printedHelp(args, USAGE)) return 0;
  const int = { kind: 'int' } as const;
  const parsed = parseArgs(args, { classes: int, count: int, size: int, seed: int });
  const target = onePositional(parsed, 'target folder', USAGE);
  const values = parsed.options as { classes?: number; count?: number; size?: number; seed?: number };
  const dir = path.resolve(target);
  try {
    const started = Date.now();
    const result = await makeDemoData(dir, values);
    console.log(`wrote ${result.train.length + result.val.length} images (${result.train.length} train, ${result.val.length} val), `
      + `classes ${result.classes.join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`config: ${result.configPath}`);
    return 0;
  } catch (e) {
    console.error(`make-demo-data: ${(e as Error).message}`);
    return 1;
  }
}
