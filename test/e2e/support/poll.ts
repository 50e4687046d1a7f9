// Polling a probe until it gives a value: for state that only shows on disk or in the page, with no event to wait on.

/** Resolves with the first value of `probe` other than undefined; rejects after `timeoutMs`. Errors of the probe count as "not yet". */
export async function poll<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // a file may be half-written, an element not there yet: look again
    }
    if (Date.now() > deadline) throw new Error(`still nothing after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
