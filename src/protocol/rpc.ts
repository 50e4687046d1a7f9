// Request/reply plumbing shared by every boundary: ids, {ok}|{error} replies, and exhaustiveness checks.

/** A reply never throws across a boundary: it carries either a value or an error message. */
export type Reply<T> = { ok: true; value: T } | { ok: false; error: string };

export function assertNever(value: never, what = 'message'): never {
  throw new Error(`Unhandled ${what}: ${JSON.stringify(value)}`);
}

/**
 * Tracks requests sent over a message channel and resolves them when the matching reply (same id) arrives.
 * Used by the host towards the trainer and by the webview towards the host.
 */
export class PendingRequests {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  /** Allocates an id and a promise settled by `settle(id, reply)`. */
  open<T>(): { id: number; promise: Promise<T> } {
    const id = this.nextId++;
    const promise = new Promise<T>((resolve, reject) =>
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    return { id, promise };
  }

  settle(id: number, reply: Reply<unknown>): void {
    const entry = this.waiting.get(id);
    if (!entry) return;
    this.waiting.delete(id);
    if (reply.ok) entry.resolve(reply.value);
    else entry.reject(new Error(reply.error));
  }

  /** Rejects everything still waiting (the other side went away). */
  rejectAll(reason: string): void {
    for (const entry of this.waiting.values()) entry.reject(new Error(reason));
    this.waiting.clear();
  }
}
