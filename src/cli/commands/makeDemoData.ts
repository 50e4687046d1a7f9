// `segscope make-demo-data <dir> [--classes K] [--count N] [--size S] [--seed X]`: writes the synthetic VOC-layout demo dataset.
import path from 'node:path';
import { makeDemoData } from '../../engine/data/demo';

const USAGE = 'usage: segscope make-demo-data <dir> [--classes K] [--count N] [--size S] [--seed X]';
const OPTIONS = ['classes', 'count', 'size', 'seed'] as const;
type OptionName = (typeof OPTIONS)[number];

export async function run(args: string[]): Promise<number> {
  const values: Partial<Record<OptionName, number>> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      return 0;
    }
    if (arg.startsWith('--')) {
      const [flag, inline] = arg.slice(2).split('=', 2);
      if (!(OPTIONS as readonly string[]).includes(flag)) return usageError(`unknown option --${flag}`);
      const text = inline ?? args[++i];
      const value = Number(text);
      if (text === undefined || !Number.isInteger(value)) return usageError(`--${flag} needs an integer, got ${text ?? 'nothing'}`);
      values[flag as OptionName] = value;
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 1) return usageError('give exactly one target folder');
  const dir = path.resolve(positional[0]);
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

function usageError(message: string): number {
  console.error(`make-demo-data: ${message}\n${USAGE}`);
  return 2;
}
