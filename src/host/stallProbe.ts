// Measures how long the extension host's thread is blocked: a timer that should fire every `intervalMs` records how late it fires. Pure: no vscode.

export interface StallReport {
  /** Longest delay beyond the timer interval seen since the probe started (or was reset), in ms. */
  longestStallMs: number;
  /** When it happened (ms since epoch), 0 if never. */
  at: number;
  samples: number;
  /** Stalls longer than the threshold. */
  overThreshold: number;
  thresholdMs: number;
}

export class HostStallProbe {
  private timer: ReturnType<typeof setInterval> | undefined;
  private last = 0;
  private report: StallReport;

  constructor(private readonly intervalMs = 10, thresholdMs = 50, private readonly clock: () => number = () => performance.now()) {
    this.report = { longestStallMs: 0, at: 0, samples: 0, overThreshold: 0, thresholdMs };
  }

  start(): void {
    if (this.timer) return;
    this.last = this.clock();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    // The probe must never keep a process alive on its own.
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** One timer firing: how late was it? Exposed for tests. */
  tick(): void {
    const now = this.clock();
    const stall = Math.max(0, now - this.last - this.intervalMs);
    this.last = now;
    this.report.samples++;
    if (stall > this.report.thresholdMs) this.report.overThreshold++;
    if (stall > this.report.longestStallMs) { this.report.longestStallMs = stall; this.report.at = Date.now(); }
  }

  reset(): void {
    this.report = { longestStallMs: 0, at: 0, samples: 0, overThreshold: 0, thresholdMs: this.report.thresholdMs };
    this.last = this.clock();
  }

  snapshot(): StallReport {
    return { ...this.report, longestStallMs: Math.round(this.report.longestStallMs * 10) / 10 };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
