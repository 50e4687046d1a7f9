// The host-stall probe measures how late its timer fires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostStallProbe } from '../../../src/host/stallProbe';

test('records the longest lateness beyond the interval and counts stalls over the threshold', () => {
  let now = 0, cpu = 0;
  const probe = new HostStallProbe(10, 50, () => now, () => cpu);
  probe.reset();
  // [wall gap, CPU used in it]: the 200 ms gap was mostly waiting for the CPU, the 80 ms gap was busy.
  const gaps: [number, number][] = [[10, 1], [12, 2], [80, 78], [10, 1], [45, 5], [200, 20], [11, 1]];
  for (const [gap, used] of gaps) { now += gap; cpu += used; probe.tick(); }
  const report = probe.snapshot();
  assert.equal(report.samples, gaps.length);
  assert.equal(report.longestStallMs, Math.max(...gaps.map(([g]) => g)) - 10);
  assert.equal(report.longestBusyStallMs, Math.max(...gaps.map(([g, u]) => Math.max(0, Math.min(g, u) - 10))));
  assert.equal(report.overThreshold, gaps.filter(([g]) => g - 10 > 50).length);
  probe.reset();
  assert.equal(probe.snapshot().longestStallMs, 0);
});

test('a real timer on an idle loop sees only small stalls', async () => {
  const probe = new HostStallProbe(5, 50);
  probe.start();
  await new Promise((r) => setTimeout(r, 60));
  const blockedUntil = performance.now() + 70;
  while (performance.now() < blockedUntil) { /* block the thread */ }
  await new Promise((r) => setTimeout(r, 30));
  probe.stop();
  const report = probe.snapshot();
  assert.ok(report.longestStallMs >= 60, `stall ${report.longestStallMs} should reflect the 70 ms block`);
  assert.ok(report.longestBusyStallMs > 0 && report.longestBusyStallMs <= report.longestStallMs, `busy part ${report.longestBusyStallMs}`);
  assert.ok(report.overThreshold >= 1);
});
