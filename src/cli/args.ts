// A small command-line parser for the CLI's subcommands: --flag, --flag value, --flag=value, and positionals.
export interface OptionSpec {
  /** 'flag' takes no value; 'string' and 'int' take one. */
  kind: 'flag' | 'string' | 'int';
}

export interface ParsedArgs {
  positional: string[];
  options: Record<string, string | number | boolean>;
}

export class UsageError extends Error {}

export function parseArgs(args: readonly string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const positional: string[] = [];
  const options: ParsedArgs['options'] = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--') || arg === '--') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const option = spec[name];
    if (!option) throw new UsageError(`unknown option --${name}`);
    if (option.kind === 'flag') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    const text = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (text === undefined || (eq < 0 && text.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    if (option.kind === 'int') {
      const value = Number(text);
      if (!Number.isInteger(value) || value < 0) throw new UsageError(`--${name} needs a whole number, got "${text}"`);
      options[name] = value;
    } else {
      options[name] = text;
    }
  }
  return { positional, options };
}

/** Prints `usage` and returns true when the arguments ask for help (--help or -h anywhere). */
export function printedHelp(args: readonly string[], usage: string): boolean {
  if (!args.includes('--help') && !args.includes('-h')) return false;
  console.log(usage);
  return true;
}

/** The one positional argument a command takes, or a UsageError naming what is missing. */
export function onePositional(parsed: ParsedArgs, what: string, usage: string): string {
  if (parsed.positional.length !== 1) throw new UsageError(`give exactly one ${what}\n${usage}`);
  return parsed.positional[0];
}
