// The `segscope` command line (bundled to dist/cli.js): dispatches to one module per subcommand.
import { ConfigError } from '../config/load';
import { UsageError } from './args';

type Command = { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> };

/** Subcommands, in the order `segscope help` lists them; a new one is one entry here and one module in commands/. */
const COMMANDS: Record<string, Command> = {
  train: { summary: 'train <segscope.json> [--epochs N] [--json] [--backend B] [--resume <runDir>] [--trust]', load: () => import('./commands/train') },
  bench: { summary: 'bench [--size 128] [--batch 8] [--backend auto] [--steps N] [--warmup N] [--json]', load: () => import('./commands/bench') },
  'make-demo-data': { summary: 'make-demo-data <dir> [--classes K] [--count N] [--size S] [--seed X]', load: () => import('./commands/makeDemoData') },
  audit: { summary: 'audit <dataset-folder | segscope.json> [--json]', load: () => import('./commands/audit') },
  doctor: { summary: 'doctor <segscope.json> [--steps N] [--json] [--overfit] [--trust]', load: () => import('./commands/doctor') },
  export: { summary: 'export <runDir> [--out dir] [--h5]', load: () => import('./commands/export') },
};

export function helpText(): string {
  return ['usage: segscope <command> [options]', '', 'commands:',
    ...Object.values(COMMANDS).map((c) => `  ${c.summary}`), '  help', ''].join('\n');
}

/** Runs one command line; returns the exit code (errors become one line on stderr). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(helpText());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`segscope: unknown command "${name}"\n${helpText()}`);
    return 2;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`segscope ${name}: ${message.split('\n')[0]}\n`);
    if (err instanceof UsageError) {
      const more = message.split('\n').slice(1).join('\n');
      if (more) process.stderr.write(more + '\n');
      return 2;
    }
    if (process.env.SEGSCOPE_DEBUG && !(err instanceof ConfigError)) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
}

if (require.main === module) {
  // process.exit: wasm worker threads would otherwise keep the process alive (stdout is synchronous on pipes and files).
  main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
    process.stderr.write(`segscope: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
