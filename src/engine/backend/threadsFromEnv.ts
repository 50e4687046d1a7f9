// Reads a thread-count switch from the environment (diagnostics, docs/backends.md); no tfjs import, so no side effects.

/** The value of `name` if it is a whole number ≥ 1, else `fallback`. */
export function threadsFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value >= 1 ? value : fallback;
}
