// UI suite: the segscope debugger in a real VS Code web workbench: a function breakpoint "epoch 1", F5 on segscope.json,
// the Call Stack and the Variables view at the paused epoch, the dashboard on that epoch, then Shift+F5 ends the run as stopped.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { createShortDemoProject } from '../support/demoProject';
import { e2eEnvironment } from '../support/environment';
import { poll } from '../support/poll';
import { readEpochMetrics, readRunInfo, runFolders } from '../support/runFolder';
import { chainedSteps } from '../support/steps';
import { Workbench } from '../support/workbench';

/** Small batches so an epoch takes seconds; more epochs than the breakpoint needs, so the run is still going at the stop. */
const QUICK_TRAINING = { epochs: 20, stepsPerEpoch: 2, batchSize: 2 };
const QUICK_DATA = { limit: 8 };
const QUICK_NAME = 'e2e-debug-demo';
const BREAKPOINT = 'epoch 1';
/** Epoch 1 includes building the model and the first validation pass: allow for a slow shared CI machine. */
const FIRST_EPOCH_TIMEOUT_MS = 240_000;

describe('debugging a training run', () => {
  const { step, check } = chainedSteps();
  let browser: Browser;
  let page: Page;
  let workbench: Workbench;
  let workspace: string;
  let configPath: string | undefined;
  let runDir: string | undefined;

  before(async () => {
    const env = e2eEnvironment();
    mkdirSync(env.workspacesDir, { recursive: true });
    workspace = mkdtempSync(path.join(env.workspacesDir, 'debug-'));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
    workbench = new Workbench(page, env.serverUrl, 'debugging');
    await workbench.open(workspace);
  });

  after(async () => {
    await browser?.close();
  });

  step('Create Demo Project, shortened', async () => {
    configPath = await createShortDemoProject(workbench, page, workspace, (config) => {
      config.name = QUICK_NAME;
      config.train = { ...config.train, ...QUICK_TRAINING };
      config.data = { ...config.data, ...QUICK_DATA };
    });
  });

  step(`Add Function Breakpoint "${BREAKPOINT}" shows it in the Breakpoints view`, async () => {
    // The command opens the Breakpoints view only when it is shown: with no breakpoint yet it is shown only inside an
    // open Run and Debug view. It adds an empty function breakpoint and focuses its name input.
    await workbench.runCommand('View: Show Run and Debug');
    await workbench.runCommand('Add Function Breakpoint');
    const input = page.locator('.debug-breakpoints input[placeholder="Function to break on"]').first();
    await workbench.waitFor('the function breakpoint input in the Breakpoints view', () => input.waitFor({ state: 'visible', timeout: 15_000 }));
    await input.fill(BREAKPOINT);
    await input.press('Enter');
    await workbench.waitFor(`"${BREAKPOINT}" in the Breakpoints view`, () =>
      page.locator('.debug-breakpoints .monaco-list-row', { hasText: BREAKPOINT }).first().waitFor({ timeout: 15_000 }));
    await workbench.screenshot('function breakpoint');
  });

  step(`F5 with segscope.json active stops at the end of epoch 1 (Call Stack "epoch 1 · …")`, async () => {
    assert.ok(configPath, 'the demo project exists (previous step)');
    // F5 goes to the focused part of the workbench: focus the segscope.json editor first.
    await workbench.tab('segscope.json').first().click();
    await page.locator('.editor-instance .view-lines').first().click();
    await page.keyboard.press('F5');
    // Should VS Code ask which debugger to use (more than one interested in JSON), pick ours.
    const chooser = workbench.quickInput().locator('.quick-input-list .monaco-list-row', { hasText: 'SegScope' }).first();
    const frame = page.locator('.debug-call-stack .monaco-list-row', { hasText: /epoch 1 ·/ }).first();
    const picked = await Promise.race([
      chooser.waitFor({ timeout: 30_000 }).then(() => 'chooser' as const),
      page.locator('.debug-toolbar').waitFor({ timeout: 30_000 }).then(() => 'started' as const),
    ]).catch(() => 'nothing' as const);
    if (picked === 'chooser') await chooser.click();
    if (picked === 'nothing') {
      // F5 did not reach the workbench: start through the palette (same command).
      await workbench.runCommand('Debug: Start Debugging');
    }
    console.log(`    debugging started by ${picked === 'nothing' ? 'the palette (F5 did not start it)' : picked === 'chooser' ? 'F5 and the debugger chooser' : 'F5'}`);
    const runsDir = path.join(path.dirname(configPath), '.segscope', 'runs');
    runDir = await workbench.waitFor('a run folder under demo-data/.segscope/runs', () => poll(() => runFolders(runsDir)[0], 60_000));
    await workbench.waitFor(`the Call Stack to show "epoch 1 · …" (stopped at "${BREAKPOINT}")`, () => frame.waitFor({ timeout: FIRST_EPOCH_TIMEOUT_MS }));
    const frameText = await frame.innerText();
    assert.match(frameText, /^epoch 1 · /m, `the paused frame: ${frameText}`);
    const info = readRunInfo(runDir);
    assert.equal(info.name, QUICK_NAME, 'the debugged run uses the shortened config');
    assert.equal(info.epochsDone, 1, 'paused at the end of epoch 1: epoch 1 is on disk and training did not go on');
  });

  step('the Variables view shows the Metrics scope with mIoU', async () => {
    assert.ok(runDir, 'the run is paused (previous step)');
    const variables = page.locator('.debug-variables');
    const scope = variables.locator('.monaco-list-row', { hasText: /^\s*Metrics/ }).first();
    await workbench.waitFor('the Metrics scope in the Variables view', () => scope.waitFor({ timeout: 30_000 }));
    const miou = variables.locator('.monaco-list-row', { hasText: /^\s*miou\b/i }).first();
    // VS Code expands the first scope by itself; expand it if it is collapsed.
    if ((await scope.getAttribute('aria-expanded')) !== 'true') await scope.click();
    await workbench.waitFor('mIoU inside the Metrics scope', () => miou.waitFor({ timeout: 30_000 }));
    const row = await miou.innerText();
    const shown = Number(/(-?\d+(?:\.\d+)?(?:e-?\d+)?)/i.exec(row.split(/[:=]/).slice(1).join(':'))?.[1]);
    const expected = readEpochMetrics(runDir, 1).val.miou;
    assert.ok(Number.isFinite(shown), `mIoU row "${row}" shows a number`);
    assert.ok(Math.abs(shown - expected) <= 5e-3, `mIoU shown ${shown}, metrics.json of epoch 1 says val.miou ${expected}`);
    await workbench.screenshot('paused at epoch 1 with mIoU');
  });

  check('the dashboard shows the paused epoch', async () => {
    const dashboard = workbench.webview();
    await workbench.waitFor('the dashboard on epoch 1 (#epoch-slider[data-epoch="1"])', () =>
      dashboard.locator('#epoch-slider[data-epoch="1"]').waitFor({ timeout: 30_000 }));
    await workbench.waitFor('the dashboard showing the debugged run', () =>
      dashboard.locator('#run-title', { hasText: QUICK_NAME }).waitFor({ timeout: 15_000 }));
  });

  step('Shift+F5 stops the session and run.json says stopped', async () => {
    assert.ok(runDir, 'the run is paused (previous steps)');
    // Shift+F5 goes to the focused part of the workbench (not a webview): focus the Variables view.
    await page.locator('.debug-variables .monaco-list-row').first().click();
    await page.keyboard.press('Shift+F5');
    const status = await workbench.waitFor('run.json to say stopped', () => poll(() => {
      const current = readRunInfo(runDir!).status;
      return current === 'running' || current === 'paused' ? undefined : current;
    }, 60_000));
    assert.equal(status, 'stopped', 'the run ended by Stop, not by running out of epochs');
    await workbench.waitFor('the debug toolbar to go away', () => page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 30_000 }));
    await workbench.screenshot('stopped');
  });
});
