// DAP tests: the stand-alone adapter (src/debug/adapterMain.ts through tsx) driven by DebugClient against trainer processes:
// test/fixtures/fakeDebugTrainer.ts (pauses like the engine, no TensorFlow, a few seconds) and the real trainer
// src/trainer/main.ts on tiny demo data (about a minute). SEGSCOPE_DAP_TRAINER=<script>[,<script>] picks others.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { EpochMetrics, RunInfo } from '../../../src/protocol/runFolder';
import { runPaths } from '../../../src/protocol/runFolder';
import { makeDemoData } from '../../../src/engine/data/demo';

const root = path.resolve(__dirname, '../../..');
/** The adapter under test: from source (default) or the bundle (`SEGSCOPE_DAP_ADAPTER=dist/debugAdapter.js` after `node scripts/build.mjs`). */
const adapter = path.resolve(root, process.env.SEGSCOPE_DAP_ADAPTER ?? 'src/debug/adapterMain.ts');
/** Each trainer the suite runs against: SEGSCOPE_DAP_TRAINER (comma-separated), else the fake and the real trainer. */
const trainers = (process.env.SEGSCOPE_DAP_TRAINER ?? 'test/fixtures/fakeDebugTrainer.ts,src/trainer/main.ts')
  .split(',').map((t) => path.resolve(root, t.trim())).filter((t) => existsSync(t));

for (const trainer of trainers) dapSuite(trainer);

function dapSuite(trainer: string): void {
  let work: string;
  const realTrainer = !trainer.includes(`${path.sep}fixtures${path.sep}`);
  const TIMEOUT = Number(process.env.SEGSCOPE_DAP_TIMEOUT ?? (realTrainer ? 180_000 : 20_000));

  /** A segscope.json for one test: synthetic for the fake trainer, tiny demo data (12 images of 32²) for the real one. */
  async function writeConfig(name: string, learningRate: number, epochs = 3, optimizer: 'adam' | 'sgd' = 'adam', stepsPerEpoch = 3): Promise<string> {
    const dir = path.join(work, name);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'segscope.json');
    let config: Record<string, any>;
    if (realTrainer) {
      const demo = await makeDemoData(dir, { count: 12, size: 32, classes: 2 });
      config = JSON.parse(readFileSync(demo.configPath, 'utf8'));
      config.name = name;
      config.model = { arch: 'unet', width: 0.25 };
      config.data.inputSize = 32;
      config.watch = { ...config.watch, layers: ['encoder/level1/pool'] };
      config.train = { ...config.train, epochs, batchSize: 4, stepsPerEpoch, optimizer: { name: optimizer, learningRate }, earlyStopping: undefined };
    } else {
      config = {
        name,
        data: { format: 'folders', root: '.', classes: ['background', 'cat', 'dog'] },
        train: { epochs, stepsPerEpoch, optimizer: { name: optimizer, learningRate } },
      };
    }
    writeFileSync(file, JSON.stringify(config, null, 2));
    return file;
  }

  async function startClient(env: Record<string, string> = {}): Promise<{ dc: DebugClient; runDir: Promise<string> }> {
    const dc = new DebugClient('node', adapter, 'segscope', {
      cwd: root,
      env: {
        ...process.env,
        ...(adapter.endsWith('.ts') ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import tsx`.trim() } : {}),
        SEGSCOPE_TRAINER: trainer,
        ...env,
      },
    });
    dc.defaultTimeout = TIMEOUT;
    await dc.start();
    const runDir = new Promise<string>((resolve) => dc.on('segscope.runStarted', (event: DebugProtocol.Event) => resolve(event.body.runDir)));
    return { dc, runDir };
  }

  /** initialize + launch, setting breakpoints once the adapter asks for them. */
  async function launchWith(dc: DebugClient, config: string, setup: () => Promise<unknown>, extra: Record<string, unknown> = {}): Promise<void> {
    await Promise.all([
      dc.waitForEvent('initialized').then(setup).then(() => dc.configurationDoneRequest()),
      dc.launch({ config, ...extra }),
    ]);
  }

  async function variable(dc: DebugClient, scopeName: string, name: string): Promise<DebugProtocol.Variable> {
    const { body: { stackFrames } } = await dc.stackTraceRequest({ threadId: 1 });
    const { body: { scopes } } = await dc.scopesRequest({ frameId: stackFrames[0].id });
    const scope = scopes.find((s) => s.name === scopeName);
    assert.ok(scope, `scope ${scopeName} in ${scopes.map((s) => s.name).join(', ')}`);
    const { body: { variables } } = await dc.variablesRequest({ variablesReference: scope.variablesReference });
    const found = variables.find((v) => v.name === name);
    assert.ok(found, `${name} in ${variables.map((v) => v.name).join(', ')}`);
    return found;
  }

  async function evaluateNumber(dc: DebugClient, expression: string): Promise<number> {
    const { body } = await dc.evaluateRequest({ expression, context: 'repl' });
    return Number(body.result);
  }

  describe(`segscope debug adapter (DAP) with ${path.relative(root, trainer)}`, { timeout: realTrainer ? 1_800_000 : 120_000 }, () => {
    before(() => { work = mkdtempSync(path.join(tmpdir(), 'segscope-dap-')); });
    after(() => rmSync(work, { recursive: true, force: true }));

    it('stops at function breakpoint `epoch 2` with mIoU in Variables', async () => {
      const config = await writeConfig('bp-epoch', 0.001);
      const { dc, runDir } = await startClient();
      try {
        let verified: DebugProtocol.Breakpoint[] = [];
        await launchWith(dc, config, async () => {
          verified = (await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'epoch 2' }] })).body.breakpoints;
        });
        assert.equal(verified[0].verified, true);
        const stopped = await dc.waitForEvent('stopped') as DebugProtocol.StoppedEvent;
        assert.equal(stopped.body.reason, 'breakpoint');
        const { body: { stackFrames } } = await dc.stackTraceRequest({ threadId: 1 });
        const batches = await evaluateNumber(dc, 'batchesPerEpoch');
        assert.match(stackFrames[0].name, new RegExp(`^epoch 2 · batch ${batches} \\(end of epoch\\)`));
        assert.equal(stackFrames[0].line, 2);
        const dir = await runDir;
        const metrics = JSON.parse(readFileSync(path.join(dir, runPaths.metrics(2)), 'utf8')) as EpochMetrics;
        const miou = await variable(dc, 'Metrics', 'mIoU');
        assert.ok(Math.abs(Number(miou.value) - metrics.val.miou) < 1e-3, `${miou.value} vs ${metrics.val.miou}`);
        assert.equal(await evaluateNumber(dc, 'epoch'), 2);
        assert.ok(Math.abs(await evaluateNumber(dc, 'val.loss / train.loss') - metrics.val.loss / metrics.train.loss) < 1e-3);
        const bad = await dc.evaluateRequest({ expression: 'mio', context: 'repl' }).then(() => 'no error', (e: Error) => e.message);
        assert.match(bad, /Unknown name "mio"/);

        // Layers → a layer → its stats → per channel, as in the run folder's activation header.
        const watched = Object.keys(metrics.layers).find((name) =>
          Object.keys(metrics.watch).some((image) => existsSync(path.join(dir, runPaths.activationHeader(2, image, name)))));
        assert.ok(watched, 'the run folder has activations of a watched layer at epoch 2');
        const layers = await variable(dc, 'Layers', watched);
        const layer = (await dc.variablesRequest({ variablesReference: layers.variablesReference })).body.variables;
        assert.ok(Math.abs(Number(layer.find((v) => v.name === 'mean')?.value) - metrics.layers[watched].mean) <= 1e-3 * Math.max(1, Math.abs(metrics.layers[watched].mean)));
        const channels = layer.find((v) => v.name === 'channels');
        assert.ok(channels, 'per-channel ranges of a watched layer');
        const images = (await dc.variablesRequest({ variablesReference: channels.variablesReference })).body.variables;
        const header = JSON.parse(readFileSync(path.join(dir, runPaths.activationHeader(2, images[0].name, watched)), 'utf8'));
        const perChannel = (await dc.variablesRequest({ variablesReference: images[0].variablesReference })).body.variables;
        assert.equal(perChannel.length, header.min.length);
        const last = (await dc.variablesRequest({ variablesReference: perChannel.at(-1)!.variablesReference })).body.variables;
        const close = (a: number, b: number) => Math.abs(a - b) <= 1e-3 * Math.max(1, Math.abs(b));
        assert.deepEqual(last.map((v) => v.name), ['min', 'max']);
        assert.ok(close(Number(last[0].value), header.min.at(-1)) && close(Number(last[1].value), header.max.at(-1)), JSON.stringify(last));
        assert.equal(layers.evaluateName, /^[A-Za-z_$][\w$]*$/.test(watched) ? `layers.${watched}` : `layers[${JSON.stringify(watched)}]`);

      // A layer that is not watched: expanding its channels asks the trainer for a probe at the paused state.
      const other = Object.keys(metrics.layers).find((name) => name !== watched)!;
      const otherLayer = (await dc.variablesRequest({ variablesReference: (await variable(dc, 'Layers', other)).variablesReference })).body.variables;
      const probe = otherLayer.find((v) => v.name === 'channels');
      assert.ok(probe && probe.variablesReference > 0, 'a probe-on-expand channels entry');
      const probed = (await dc.variablesRequest({ variablesReference: probe.variablesReference })).body.variables;
      assert.equal(probed.length, 1, JSON.stringify(probed));
      const probedChannels = (await dc.variablesRequest({ variablesReference: probed[0].variablesReference })).body.variables;
      const probeHeaders = readdirSync(path.join(dir, 'probes'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
      assert.equal(probeHeaders.length, 1, 'the trainer wrote one probe header');
      const probeHeader = JSON.parse(readFileSync(path.join(dir, 'probes', probeHeaders[0]), 'utf8'));
      assert.equal(probeHeader.layer, other);
      assert.equal(probedChannels.length, probeHeader.min.length);
      } finally {
        await dc.stop();
      }
    });

    it('runs to the end when a condition is never true, and reports bad conditions on the breakpoint', async () => {
      const config = await writeConfig('never', 0.001);
      const { dc } = await startClient();
      try {
        let states: DebugProtocol.Breakpoint[] = [];
        const stops: DebugProtocol.Event[] = [];
        dc.on('stopped', (e) => stops.push(e));
        const terminated = dc.waitForEvent('terminated', TIMEOUT);
        await launchWith(dc, config, async () => {
          states = (await dc.setFunctionBreakpointsRequest({
            breakpoints: [
              { name: 'every epoch', condition: 'miou < 0 && epoch >= 1' },
              { name: 'batch 2', condition: 'iou.kat == 0' },
              { name: 'epoch 3..1' },
            ],
          })).body.breakpoints;
        });
        assert.deepEqual(states.map((s) => s.verified), [true, false, false]);
        assert.match(states[1].message ?? '', /kat/);
        assert.match(states[2].message ?? '', /backwards/);
        await terminated;
        assert.equal(stops.length, 0);
      } finally {
        await dc.stop();
      }
    });

    it('stops at a breakpoint on the last epoch with its numbers; Continue then finishes the run', async () => {
      const config = await writeConfig('bp-last', 0.001, 2);
      const { dc, runDir } = await startClient();
      try {
        const stops: DebugProtocol.StoppedEvent[] = [];
        dc.on('stopped', (e) => stops.push(e as DebugProtocol.StoppedEvent));
        const terminated = dc.waitForEvent('terminated', TIMEOUT).then(() => undefined);
        await launchWith(dc, config, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'epoch 2' }] }));
        const stopped = await Promise.race([dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>, terminated]);
        assert.ok(stopped, 'the run ended without stopping at its last epoch');
        assert.equal(stopped.body.reason, 'breakpoint');
        const batches = await evaluateNumber(dc, 'batchesPerEpoch');
        const { body: { stackFrames } } = await dc.stackTraceRequest({ threadId: 1 });
        assert.match(stackFrames[0].name, new RegExp(`^epoch 2 · batch ${batches} \\(end of epoch\\)`));
        assert.equal(await evaluateNumber(dc, 'epoch'), 2);
        const dir = await runDir;
        const metrics = JSON.parse(readFileSync(path.join(dir, runPaths.metrics(2)), 'utf8')) as EpochMetrics;
        const miou = await variable(dc, 'Metrics', 'mIoU');
        assert.ok(Math.abs(Number(miou.value) - metrics.val.miou) < 1e-3, `${miou.value} vs ${metrics.val.miou}`);
        assert.ok(Math.abs(await evaluateNumber(dc, 'val.loss') - metrics.val.loss) <= 1e-3 * Math.max(1, Math.abs(metrics.val.loss)));
        // Halted before the end: the run folder has no run/end yet.
        const events = () => readFileSync(path.join(dir, runPaths.events), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
        assert.equal(events().filter((e) => e.type === 'run/end').length, 0, 'run/end before the stop was shown');

        await dc.continueRequest({ threadId: 1 });
        await terminated;
        assert.equal(stops.length, 1);
        const info = JSON.parse(readFileSync(path.join(dir, runPaths.info), 'utf8')) as RunInfo;
        assert.equal(info.status, 'finished');
        assert.equal(info.epochsDone, 2);
        assert.equal(events().at(-1).type, 'run/end');
        assert.equal(events().at(-1).status, 'finished');
      } finally {
        await dc.stop();
      }
    });

    // One batch per epoch: both trainers' losses first turn NaN at step 3, the last epoch's only batch, so the finding
    // arrives right before the run's last boundary.
    it('stops on the NaN/Inf filter in the last epoch; Continue then ends the run', async () => {
      const config = await writeConfig('diverge-last', 1e8, 3, 'sgd', 1);
      const { dc, runDir } = await startClient();
      try {
        const ended = dc.waitForEvent('terminated', TIMEOUT).then(() => undefined);
        await launchWith(dc, config, () => dc.setExceptionBreakpointsRequest({ filters: ['nan'] }));
        const stopped = await Promise.race([dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>, ended]);
        assert.ok(stopped, 'the run ended without the num/nan finding stopping it');
        assert.equal(stopped.body.reason, 'exception');
        assert.equal((await dc.exceptionInfoRequest({ threadId: 1 })).body.exceptionId, 'num/nan');
        assert.equal(await evaluateNumber(dc, 'epoch'), 3);
        assert.equal(await evaluateNumber(dc, 'step'), 3);
        await dc.continueRequest({ threadId: 1 });
        await ended;
        const info = JSON.parse(readFileSync(path.join(await runDir, runPaths.info), 'utf8')) as RunInfo;
        assert.equal(info.status, 'finished');
        assert.equal(info.epochsDone, 3);
      } finally {
        await dc.stop();
      }
    });

    it('runs to the end without stopping when no breakpoint or filter is set', async () => {
      const config = await writeConfig('no-bp', 0.001, 2);
      const { dc, runDir } = await startClient();
      try {
        const stops: DebugProtocol.Event[] = [];
        dc.on('stopped', (e) => stops.push(e));
        const terminated = dc.waitForEvent('terminated', TIMEOUT);
        await launchWith(dc, config, () => dc.setExceptionBreakpointsRequest({ filters: [] }));
        await terminated;
        assert.equal(stops.length, 0);
        const info = JSON.parse(readFileSync(path.join(await runDir, runPaths.info), 'utf8')) as RunInfo;
        assert.equal(info.status, 'finished');
        assert.equal(info.epochsDone, 2);
      } finally {
        await dc.stop();
      }
    });

    // Adam's steps are bounded by its learning rate and BatchNorm renormalises, so only plain SGD with a huge rate diverges.
    it('stops on the NaN/Inf filter when a huge learning rate makes the loss diverge', async () => {
      const config = await writeConfig('diverge', 1e8, 3, 'sgd');
      const { dc } = await startClient();
      try {
        const ended = dc.waitForEvent('terminated').then(() => undefined);
        await launchWith(dc, config, () => dc.setExceptionBreakpointsRequest({ filters: ['nan'] }));
        const stopped = await Promise.race([dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>, ended]);
        assert.ok(stopped, 'the run ended without a num/nan finding stopping it');
        assert.equal(stopped.body.reason, 'exception');
        assert.match(stopped.body.text ?? '', /num\/nan/);
        const info = await dc.exceptionInfoRequest({ threadId: 1 });
        assert.equal(info.body.exceptionId, 'num/nan');
        const { body: { stackFrames } } = await dc.stackTraceRequest({ threadId: 1 });
        assert.match(stackFrames[0].name, /num\/nan/);
        const loss = await variable(dc, 'Metrics', 'loss');
        assert.match(loss.value, /NaN|Infinity/);
      } finally {
        await dc.stop();
      }
    });

    it('Step Over advances exactly one batch; Step Into runs to the end of the epoch', async () => {
      const config = await writeConfig('step', 0.001, 4);
      const { dc } = await startClient();
      try {
        await launchWith(dc, config, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'epoch 1' }] }));
        await dc.waitForEvent('stopped');
        const before = await evaluateNumber(dc, 'step');
        await Promise.all([dc.nextRequest({ threadId: 1 }), dc.assertStoppedLocation('step', {})]);
        assert.equal(await evaluateNumber(dc, 'step'), before + 1);
        assert.equal(await evaluateNumber(dc, 'epoch'), 2);
        assert.equal(await evaluateNumber(dc, 'batch'), 1);
        await Promise.all([dc.nextRequest({ threadId: 1 }), dc.assertStoppedLocation('step', {})]);
        assert.equal(await evaluateNumber(dc, 'step'), before + 2);
        // Step Into runs to the end of the current epoch; a step that ran an epoch's last batch already stands at its end.
        const { body: { stackFrames } } = await dc.stackTraceRequest({ threadId: 1 });
        const atEnd = /\(end of epoch\)/.test(stackFrames[0].name);
        const target = (await evaluateNumber(dc, 'epoch')) + (atEnd ? 1 : 0);
        await Promise.all([dc.stepInRequest({ threadId: 1 }), dc.assertStoppedLocation('step', { line: target })]);
        assert.equal(await evaluateNumber(dc, 'metricsEpoch'), target);
      } finally {
        await dc.stop();
      }
    });

    it('Pause stops at the next batch boundary; Restart resumes the run folder from its checkpoint', async () => {
      const config = await writeConfig('restart', 0.001, 4);
      // The fake's run lasts 12 batches × 100 ms: the pause, sent 150 ms in, has about a second to arrive before the run
      // ends, even on a loaded machine (at 40 ms per batch it had about 300 ms).
      const { dc, runDir } = await startClient({ SEGSCOPE_FAKE_BATCH_MS: '100' });
      try {
        await launchWith(dc, config, () => dc.setExceptionBreakpointsRequest({ filters: [] }));
        const dir = await runDir;
        await new Promise((resolve) => setTimeout(resolve, 150));
        await Promise.all([dc.pauseRequest({ threadId: 1 }), dc.assertStoppedLocation('pause', {})]);
        const step = await evaluateNumber(dc, 'step');
        assert.ok(step < 4 * (await evaluateNumber(dc, 'batchesPerEpoch')), `paused mid-run at step ${step}`);
        const terminated = dc.waitForEvent('terminated', TIMEOUT);
        await dc.restartRequest({});
        await terminated;
        const info = JSON.parse(readFileSync(path.join(dir, runPaths.info), 'utf8')) as RunInfo;
        assert.equal(info.status, 'finished');
        assert.equal(info.epochsDone, 4);
        assert.ok(info.resumedFrom, 'run.json says the run was resumed');
        const starts = readFileSync(path.join(dir, runPaths.events), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'run/start');
        assert.equal(starts.length, 2, 'the restart resumed the same run folder');
      } finally {
        await dc.stop();
      }
    });

    it('Stop saves a checkpoint and leaves a complete run folder', async () => {
      const config = await writeConfig('stop', 0.001, 5);
      const { dc, runDir } = await startClient();
      try {
        const text = readFileSync(config, 'utf8');
        const epochsLine = text.split('\n').findIndex((l) => l.includes('"epochs"')) + 1;
        let states: DebugProtocol.Breakpoint[] = [];
        await launchWith(dc, config, async () => {
          states = (await dc.setBreakpointsRequest({
            source: { path: config }, breakpoints: [{ line: epochsLine, hitCondition: '2' }, { line: 1 }],
          })).body.breakpoints;
        });
        assert.deepEqual(states.map((s) => s.verified), [true, false]);
        const stopped = await dc.waitForEvent('stopped') as DebugProtocol.StoppedEvent;
        assert.equal(stopped.body.reason, 'breakpoint');
        assert.equal(await evaluateNumber(dc, 'epoch'), 2);
        const terminated = dc.waitForEvent('terminated');
        await dc.terminateRequest({});
        await terminated;
        const dir = await runDir;
        const info = JSON.parse(readFileSync(path.join(dir, runPaths.info), 'utf8')) as RunInfo;
        assert.equal(info.status, 'stopped');
        assert.equal(info.epochsDone, 2);
        const events = readFileSync(path.join(dir, runPaths.events), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
        assert.equal(events.at(-1).type, 'run/end');
        assert.equal(events.at(-1).status, 'stopped');
        for (const epoch of [1, 2]) assert.ok(existsSync(path.join(dir, runPaths.metrics(epoch))), `metrics of epoch ${epoch}`);
        assert.ok(existsSync(path.join(dir, runPaths.checkpointDir)), 'checkpoint folder');
      } finally {
        await dc.stop();
      }
    });
  });
}
