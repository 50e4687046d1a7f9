// UI suite: the user's main path in a real VS Code web workbench, driven by palette titles, checked inside the dashboard webview
// against the run folder on disk: Create Demo Project → Start Training → maps after epoch 1 → hover a layer (dashboard and
// editor) → Stop → Open Run….
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { thumbnailDataUri } from '../../../src/host/activationThumbnail';
import { runPaths, type ActivationHeader, type RunInfo } from '../../../src/protocol/runFolder';
import { launchChromium, recordOffLoopbackRequests } from '../support/browser';
import { createShortDemoProject } from '../support/demoProject';
import { e2eEnvironment } from '../support/environment';
import type { PageCanvas, PageDocument, PageElement } from '../support/pageTypes';
import { poll } from '../support/poll';
import { readEpochMetrics, readLabelPng, readRunInfo, runFolders } from '../support/runFolder';
import { chainedSteps } from '../support/steps';
import { Workbench } from '../support/workbench';

/**
 * Few, small batches and 8 images per split so each epoch takes about a second; far more epochs than the tests
 * need, so that Stop always arrives while the run is still going.
 */
const QUICK_TRAINING = { epochs: 1000, stepsPerEpoch: 2, batchSize: 2 };
const QUICK_DATA = { limit: 8 };
/** The run name written into the shortened config; it sits on line 2, so the editor shows it without scrolling. */
const QUICK_NAME = 'e2e-quick-demo';
/** A layer of the demo U-Net whose activations are saved each epoch, so its hover shows channel thumbnails. */
const WATCHED_LAYER = 'encoder/level1/pool';
/** Epoch 1 includes building the model and the first validation pass: allow for a slow shared CI machine. */
const FIRST_EPOCH_TIMEOUT_MS = 240_000;

describe('training from the command palette', () => {
  const { step, check } = chainedSteps();
  let browser: Browser;
  let page: Page;
  let workbench: Workbench;
  let offLoopback: Set<string>;
  let workspace: string;
  let configPath: string | undefined;
  let runDir: string | undefined;

  before(async () => {
    const env = e2eEnvironment();
    mkdirSync(env.workspacesDir, { recursive: true });
    workspace = mkdtempSync(path.join(env.workspacesDir, 'ui-'));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
    offLoopback = recordOffLoopbackRequests(page);
    workbench = new Workbench(page, env.serverUrl, 'training');
    await workbench.open(workspace);
  });

  after(async () => {
    await browser?.close();
  });

  step('SegScope: Create Demo Project writes segscope.json and opens it', async () => {
    // Shorten the run to a few small batches per epoch and watch one layer.
    configPath = await createShortDemoProject(workbench, page, workspace, (config) => {
      config.name = QUICK_NAME;
      config.train = { ...config.train, ...QUICK_TRAINING };
      config.data = { ...config.data, ...QUICK_DATA };
      config.watch = { ...config.watch, layers: [WATCHED_LAYER] };
    });
    await workbench.screenshot('demo project');
  });

  step('SegScope: Start Training shows the four maps of every watch image after epoch 1 and lists the layers', async () => {
    assert.ok(configPath, 'the demo project exists (previous test)');
    await workbench.runCommand('SegScope: Start Training');
    const runsDir = path.join(path.dirname(configPath), '.segscope', 'runs');
    runDir = await workbench.waitFor('a run folder under demo-data/.segscope/runs', () => poll(() => runFolders(runsDir)[0], 60_000));
    const dashboard = workbench.webview();
    await workbench.waitFor('epoch 1 to be complete on disk', () =>
      poll(() => (readRunInfo(runDir!).epochsDone >= 1 ? true : undefined), FIRST_EPOCH_TIMEOUT_MS));
    const info = readRunInfo(runDir);
    assert.equal(info.name, QUICK_NAME, 'the run uses the shortened config');
    assert.ok(info.watch.images.length > 0, 'the demo run watches images');

    for (const image of info.watch.images) {
      const row = dashboard.locator(`.watch-image[data-image-id="${image.id}"]`);
      await workbench.waitFor(`watch image ${image.id} drawn after epoch 1 (data-loaded="true")`, () =>
        dashboard.locator(`.watch-image[data-image-id="${image.id}"][data-loaded="true"]`).waitFor({ timeout: 30_000 }));
      for (const map of ['argmax', 'overlay', 'error', 'confidence']) {
        const painted = await row.locator(`canvas[data-map="${map}"]`).evaluate((node) => {
          const canvas = node as unknown as PageCanvas;
          const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          let opaque = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i] === 255) opaque++;
          return { width: canvas.width, height: canvas.height, opaque };
        });
        assert.equal(painted.width, info.inputSize, `${image.id} ${map}: canvas width = input size`);
        assert.equal(painted.opaque, painted.width * painted.height, `${image.id} ${map}: every pixel painted`);
      }
    }

    // The argmax map on screen is the trainer's argmax.png of the epoch shown, in the run's class colours. The epoch
    // and the pixels are read in one go: with "follow latest" the row may move on to a newer epoch at any moment.
    const first = info.watch.images[0];
    const { epoch: shownEpoch, pixels } = await dashboard.locator(`.watch-image[data-image-id="${first.id}"]`).evaluate((node) => {
      const row = node as unknown as PageElement;
      const canvas = row.querySelector('canvas[data-map="argmax"]') as PageCanvas;
      return { epoch: Number(row.dataset.epoch), pixels: Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data) };
    });
    const png = readLabelPng(path.join(runDir, runPaths.argmax(shownEpoch, first.id)));
    const colour = new Map(info.classes.map((c) => [c.id, c.color]));
    let mismatches = 0;
    for (let i = 0; i < png.labels.length; i++) {
      const expected = colour.get(png.labels[i]);
      if (!expected || pixels[i * 4] !== expected[0] || pixels[i * 4 + 1] !== expected[1] || pixels[i * 4 + 2] !== expected[2]) mismatches++;
    }
    assert.equal(mismatches, 0, `argmax canvas pixels that differ from argmax.png of epoch ${shownEpoch} in class colours`);

    const layerRows = dashboard.locator('#layers-list .layer-row');
    await workbench.waitFor('the layer list to be populated', () => layerRows.first().waitFor({ timeout: 30_000 }));
    assert.equal(await layerRows.count(), info.model.layers.length, 'one row per model layer in run.json');
    await workbench.screenshot('epoch 1');
  });

  check('hovering a watched layer shows its statistics and strongest channels', async () => {
    assert.ok(runDir, 'a run is going (previous test)');
    const info: RunInfo = readRunInfo(runDir);
    const layer = WATCHED_LAYER;
    assert.ok(info.watch.layers.includes(layer), `run.json watches ${layer} (watch.layers: ${JSON.stringify(info.watch.layers)})`);
    const dashboard = workbench.webview();
    await dashboard.locator(`#layers-list .layer-row[data-layer="${layer}"]`).hover();
    const tooltip = dashboard.locator(`#layer-tooltip[data-layer="${layer}"]`);
    await workbench.waitFor(`the tooltip of layer ${layer}`, () => tooltip.waitFor({ state: 'visible', timeout: 15_000 }));
    // The statistics are those of the epoch selected when the tooltip opened (training goes on meanwhile).
    const epoch = Number(await tooltip.locator('.stats-grid').getAttribute('data-epoch'));
    assert.ok(epoch >= 1, `the tooltip shows an epoch's statistics (data-epoch=${epoch})`);
    const expected = readEpochMetrics(runDir, epoch).layers[layer];
    assert.ok(expected, `metrics.json of epoch ${epoch} has statistics of ${layer}`);
    for (const [stat, value] of [['mean', expected.mean], ['std', expected.std], ['min', expected.min], ['max', expected.max]] as const) {
      const shown = Number(await tooltip.locator(`[data-stat="${stat}"]`).textContent());
      assert.ok(Math.abs(shown - value) <= 1e-3 + 1e-2 * Math.abs(value), `${stat}: tooltip ${shown}, metrics.json ${value}`);
    }
    const zeros = await tooltip.locator('[data-stat="zeros"]').textContent();
    assert.match(zeros ?? '', /%/, 'zeros is shown as a percentage');
    await workbench.waitFor(`thumbnails of the strongest channels of ${layer}`, () =>
      tooltip.locator('canvas.layer-thumb').first().waitFor({ timeout: 15_000 }));
    await workbench.screenshot('layer tooltip');
  });

  check('hovering a watched layer name in segscope.json shows its strongest channels as an image', async () => {
    assert.ok(runDir && configPath, 'a run is going (previous tests)');
    const info = readRunInfo(runDir);
    const line = readFileSync(configPath, 'utf8').split('\n').findIndex((text) => text.includes(`"${WATCHED_LAYER}"`)) + 1;
    assert.ok(line > 0, `segscope.json lists ${WATCHED_LAYER} in watch.layers`);
    // Bring the line on screen: activate the editor, then Go to Line.
    await workbench.tab('segscope.json').click();
    await workbench.runCommand('Go to Line/Column');
    const input = workbench.quickInput().locator('.quick-input-box input');
    await workbench.waitFor('the Go to Line input', () => poll(async () => ((await input.inputValue()).startsWith(':') ? true : undefined), 10_000));
    await page.keyboard.type(String(line));
    await page.keyboard.press('Enter');
    const name = page.locator('.editor-instance .view-line span span', { hasText: WATCHED_LAYER }).first();
    await workbench.waitFor(`line ${line} of segscope.json on screen`, () => name.waitFor({ timeout: 15_000 }));
    const hover = page.locator('.monaco-hover', { has: page.locator('img[src^="data:image/png;base64,"]') }).first();
    await workbench.waitFor(`the editor hover of ${WATCHED_LAYER} with an <img> of its feature maps`, () => poll(async () => {
      await page.mouse.move(0, 0);
      await name.hover();
      return hover.waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => undefined);
    }, 60_000));
    const image = hover.locator('img[src^="data:image/png;base64,"]').first();
    const shown = await image.evaluate((node) => {
      const img = node as unknown as { src: string; alt: string; complete: boolean; naturalWidth: number; naturalHeight: number };
      return { src: img.src, alt: img.alt, decoded: img.complete && img.naturalWidth > 0, width: img.naturalWidth, height: img.naturalHeight };
    });
    const text = await hover.innerText();
    await workbench.screenshot('editor layer hover');
    await page.keyboard.press('Escape');
    await page.mouse.move(0, 0);
    assert.ok(shown.decoded, `the browser decoded the hover image (${shown.width}×${shown.height})`);
    assert.ok(shown.alt.includes(WATCHED_LAYER), `the image's alt text names the layer: "${shown.alt}"`);
    // The image is the thumbnail of the activation file on disk for the image and epoch the caption names.
    const [, imageId, epoch] = /channels on (\S+) at epoch (\d+)/.exec(text) ?? [];
    assert.equal(imageId, info.watch.images[0].id, `the caption names the first watch image: ${text}`);
    const activation = new Uint8Array(readFileSync(path.join(runDir, runPaths.activation(Number(epoch), imageId, WATCHED_LAYER))));
    const header = JSON.parse(readFileSync(path.join(runDir, runPaths.activationHeader(Number(epoch), imageId, WATCHED_LAYER)), 'utf8')) as ActivationHeader;
    assert.equal(shown.src, thumbnailDataUri(activation, header)?.dataUri, `the hover image is the thumbnail of ${WATCHED_LAYER} on ${imageId} at epoch ${epoch}`);
  });

  check('hovering a pixel of a map reads its ground truth and prediction from the run folder', async () => {
    assert.ok(runDir, 'a run is going (previous test)');
    const info = readRunInfo(runDir);
    const image = info.watch.images[0];
    const dashboard = workbench.webview();
    const row = dashboard.locator(`.watch-image[data-image-id="${image.id}"]`);
    const truth = readLabelPng(path.join(runDir, image.groundTruth));
    const pixel = uniformPixel(truth.labels, truth.width, truth.height, info.ignoreLabel);
    const name = (label: number) => (label === info.ignoreLabel ? 'void' : info.classes.find((c) => c.id === label)?.name ?? `label ${label}`);
    const canvas = row.locator('canvas[data-map="argmax"]');
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    assert.ok(box, 'the argmax canvas is laid out');
    await canvas.hover({ position: { x: ((pixel.x + 0.5) * box.width) / truth.width, y: ((pixel.y + 0.5) * box.height) / truth.height } });
    const readout = dashboard.locator('#pixel-readout');
    await workbench.waitFor(`the pixel readout of ${image.id} at (${pixel.x}, ${pixel.y})`, () =>
      readout.locator('.top3-row').first().waitFor({ state: 'visible', timeout: 15_000 }));
    // The title names the pixel and the epoch drawn ("demo_0002 · (x, y) · epoch N"); training goes on meanwhile.
    const title = await readout.locator('.readout-title').innerText();
    const [, x, y, epoch] = /\((\d+), (\d+)\) · epoch (\d+)/.exec(title) ?? [];
    // Mouse positions are whole CSS pixels; a map drawn smaller than its image skips image pixels, hence the tolerance.
    const step = Math.ceil(truth.width / box.width);
    assert.ok(Math.abs(Number(x) - pixel.x) <= step && Math.abs(Number(y) - pixel.y) <= step,
      `the readout "${title}" is for the hovered pixel (${pixel.x}, ${pixel.y}) ± ${step}`);
    const predicted = readLabelPng(path.join(runDir, runPaths.argmax(Number(epoch), image.id)));
    const i = Number(y) * truth.width + Number(x);
    const gtText = await readout.locator('[data-field="gt"]').innerText();
    assert.ok(gtText.endsWith(name(truth.labels[i])), `ground truth: readout "${gtText}", gt.png says ${name(truth.labels[i])}`);
    const predictedText = await readout.locator('[data-field="predicted"]').innerText();
    assert.ok(predictedText.endsWith(name(predicted.labels[i])),
      `prediction: readout "${predictedText}", argmax.png of epoch ${epoch} says ${name(predicted.labels[i])}`);
    assert.equal(await readout.locator('.top3-row').count(), Math.min(3, info.classes.length), 'top-3 probabilities');
    await workbench.screenshot('pixel readout');
  });

  check('the dashboard runs only its nonce\'d script: the CSP blocks an injected inline script', async () => {
    const dashboard = workbench.webview();
    const body = dashboard.locator('body');
    assert.equal(await body.getAttribute('data-ready'), 'true', 'the dashboard script (with the nonce) ran');
    const injectedRan = await body.evaluate(() => {
      const document = (globalThis as unknown as { document: PageDocument }).document;
      const script = document.createElement('script');
      script.textContent = 'document.body.dataset.injected = "ran"';
      document.body.append(script);
      return document.body.dataset.injected ?? null;
    });
    assert.equal(injectedRan, null, 'an inline script without the nonce must not run');
  });

  step('SegScope: Stop Training ends the run as stopped', async () => {
    assert.ok(runDir, 'a run is going (previous test)');
    await workbench.runCommand('SegScope: Stop Training');
    await workbench.waitFor('run.json to say stopped', () => poll(() => {
      const status = readRunInfo(runDir!).status;
      return status === 'stopped' || status === 'finished' ? status : undefined;
    }, 60_000));
    assert.equal(readRunInfo(runDir).status, 'stopped', 'the run ended by Stop, not by running out of epochs');
    await workbench.waitFor('the dashboard to show the status "stopped"', () =>
      workbench.webview().locator('#run-status[data-status="stopped"]').waitFor({ timeout: 30_000 }));
    await workbench.screenshot('stopped');
  });

  step('SegScope: Open Run… shows the finished run again', async () => {
    assert.ok(runDir, 'a run exists (previous tests)');
    const info = readRunInfo(runDir);
    await workbench.runCommand('View: Close All Editors');
    await workbench.waitFor('all editors to close', () => page.locator('iframe.webview.ready').first().waitFor({ state: 'detached', timeout: 15_000 }));
    await workbench.runCommand('SegScope: Open Run…');
    // showOpenDialog in the web workbench is a quick input holding a path. It fills in its starting folder
    // asynchronously, so: wait for that, type the run folder, wait until the dialog lists the run folder's contents,
    // press its "Open Run" button, and try again if the dialog is still open afterwards.
    const dialog = workbench.quickInput();
    const input = dialog.locator('.quick-input-box input');
    await workbench.waitFor('the Open Run folder dialog with its starting folder', () =>
      poll(async () => ((await input.isVisible()) && (await input.inputValue()).endsWith('/') ? true : undefined), 15_000));
    await workbench.waitFor(`the dialog to accept ${runDir}`, () => poll(async () => {
      await input.fill(`${runDir}/`);
      await dialog.locator('.quick-input-list .monaco-list-row', { hasText: 'epochs' }).waitFor({ timeout: 10_000 });
      if ((await input.inputValue()) !== `${runDir}/`) return undefined;
      await dialog.locator('.monaco-button', { hasText: 'Open Run' }).click();
      return (await dialog.waitFor({ state: 'hidden', timeout: 5_000 }).then(() => true, () => undefined));
    }, 45_000));
    const dashboard = workbench.webview();
    await workbench.waitFor(`the dashboard of ${info.id} with status "stopped"`, () =>
      dashboard.locator('#run-status[data-status="stopped"]').waitFor({ timeout: 30_000 }));
    await workbench.waitFor(`epoch ${info.epochsDone} selected on the timeline`, () =>
      dashboard.locator(`#epoch-slider[data-epoch="${info.epochsDone}"]`).waitFor({ timeout: 30_000 }));
    for (const image of info.watch.images) {
      await workbench.waitFor(`watch image ${image.id} drawn at epoch ${info.epochsDone}`, () =>
        dashboard.locator(`.watch-image[data-image-id="${image.id}"][data-epoch="${info.epochsDone}"][data-loaded="true"]`).waitFor({ timeout: 30_000 }));
    }
    await workbench.screenshot('open run');
  });

  it('no request left the loopback interface', () => {
    assert.deepEqual([...offLoopback], []);
  });
});

/** A pixel inside a 7×7 patch of one ground-truth class (a shape if there is one), so hovering it cannot land on a border. */
function uniformPixel(labels: Uint8Array, width: number, height: number, ignoreLabel: number): { x: number; y: number } {
  let fallback: { x: number; y: number } | undefined;
  for (let y = 3; y < height - 3; y += 2) {
    for (let x = 3; x < width - 3; x += 2) {
      const label = labels[y * width + x];
      if (label === ignoreLabel) continue;
      let uniform = true;
      for (let dy = -3; dy <= 3 && uniform; dy++) for (let dx = -3; dx <= 3 && uniform; dx++) uniform = labels[(y + dy) * width + x + dx] === label;
      if (!uniform) continue;
      if (label !== 0) return { x, y };
      fallback ??= { x, y };
    }
  }
  if (!fallback) throw new Error('no 7×7 patch of one class in the ground truth');
  return fallback;
}

