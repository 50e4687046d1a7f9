// The host-stall probe measures how late its timer fires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostStallProbe } from '../../../src/host/stallProbe';

test('records the longest lateness beyond the interval and counts stalls over the threshold', () => {
  let now = 0;
  const probe = new HostStallProbe(10, 50, () => now);
  probe.reset();
  const gaps = [10, 12, 80, 10, 45, 200, 11];
  for (const gap of gaps) { now += gap; probe.tick(); }
  const report = probe.snapshot();
  assert.equal(report.samples, gaps.length);
  assert.equal(report.longestStallMs, Math.max(...gaps) - 10);
  assert.equal(report.overThreshold, gaps.filter((g) => g - 10 > 50).length);
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
  assert.ok(report.overThreshold >= 1);
});
