// Measures how long the extension host's thread is blocked: a timer that should fire every `intervalMs` records how late it fires, and how much CPU the process used meanwhile (to tell work from a busy machine). Pure: no vscode.

export interface StallReport {
  /** Longest delay beyond the timer interval seen since the probe started (or was reset), in ms of wall time. */
  longestStallMs: number;
  /**
   * Longest delay that the process spent computing (CPU time used during the late interval, beyond the interval). On a
   * loaded machine a timer also fires late when the process simply got no CPU; this part excludes that.
   */
  longestBusyStallMs: number;
  /** When the longest stall happened (ms since epoch), 0 if never. */
  at: number;
  samples: number;
  /** Stalls longer than the threshold (wall time). */
  overThreshold: number;
  thresholdMs: number;
}

export type CpuClock = () => number;

/** CPU time (user + system) of this process in ms. */
export const processCpuMs: CpuClock = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

export class HostStallProbe {
  private timer: ReturnType<typeof setInterval> | undefined;
  private last = 0;
  private lastCpu = 0;
  private report: StallReport;

  constructor(
    private readonly intervalMs = 10,
    thresholdMs = 50,
    private readonly clock: () => number = () => performance.now(),
    private readonly cpu: CpuClock = processCpuMs,
  ) {
    this.report = { longestStallMs: 0, longestBusyStallMs: 0, at: 0, samples: 0, overThreshold: 0, thresholdMs };
  }

  start(): void {
    if (this.timer) return;
    this.last = this.clock();
    this.lastCpu = this.cpu();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    // The probe must never keep a process alive on its own.
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** One timer firing: how late was it, and was the process busy meanwhile? Exposed for tests. */
  tick(): void {
    const now = this.clock(), cpuNow = this.cpu();
    const elapsed = now - this.last;
    const stall = Math.max(0, elapsed - this.intervalMs);
    const busyStall = Math.max(0, Math.min(elapsed, cpuNow - this.lastCpu) - this.intervalMs);
    this.last = now;
    this.lastCpu = cpuNow;
    this.report.samples++;
    if (stall > this.report.thresholdMs) this.report.overThreshold++;
    if (stall > this.report.longestStallMs) { this.report.longestStallMs = stall; this.report.at = Date.now(); }
    if (busyStall > this.report.longestBusyStallMs) this.report.longestBusyStallMs = busyStall;
  }

  reset(): void {
    this.report = { longestStallMs: 0, longestBusyStallMs: 0, at: 0, samples: 0, overThreshold: 0, thresholdMs: this.report.thresholdMs };
    this.last = this.clock();
    this.lastCpu = this.cpu();
  }

  snapshot(): StallReport {
    const round = (v: number) => Math.round(v * 10) / 10;
    return { ...this.report, longestStallMs: round(this.report.longestStallMs), longestBusyStallMs: round(this.report.longestBusyStallMs) };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
