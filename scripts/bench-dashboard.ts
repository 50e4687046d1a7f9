// Benchmarks the dashboard in headless Chromium: epoch end → dashboard updated (4 watch images at 128²) and a 256-channel 32×32 feature grid draw; optionally saves screenshots in dark and light themes.
// Usage: npx tsx scripts/bench-dashboard.ts [--epochs 6] [--screenshots DIR] [--chromium /usr/bin/chromium] [--json]
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { dashboardHtml, makeNonce } from '../src/host/dashboardHtml';
import { readRunFolder } from '../src/host/runHistory';
import type { DashboardRun, HostToWebview } from '../src/protocol/webview';
import { writeFakeRun } from '../test/fixtures/fakeRun';

const root = path.resolve(__dirname, '..');

// The page's globals inside page.evaluate callbacks (this file is type-checked without the DOM lib).
declare const window: any;
declare const document: any;
type Element = { dataset: Record<string, string | undefined> };
const args = process.argv.slice(2);
const option = (name: string, fallback?: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const epochs = Number(option('epochs', '6'));
const screenshots = option('screenshots');
const executablePath = option('chromium', process.env.CHROMIUM ?? '/usr/bin/chromium')!;
const asJson = args.includes('--json');

/** A few of VS Code's theme variables, enough for the page to look as it does in the editor. */
const THEMES: Record<'dark' | 'light', Record<string, string>> = {
  dark: {
    '--vscode-font-family': 'system-ui, "Segoe UI", sans-serif', '--vscode-font-size': '13px', '--vscode-editor-font-family': 'monospace',
    '--vscode-editor-foreground': '#cccccc', '--vscode-editor-background': '#1f1f1f', '--vscode-sideBar-background': '#181818',
    '--vscode-descriptionForeground': '#9d9d9d', '--vscode-panel-border': '#2b2b2b', '--vscode-focusBorder': '#0078d4',
    '--vscode-list-hoverBackground': '#2a2d2e', '--vscode-list-inactiveSelectionBackground': '#37373d',
    '--vscode-editorHoverWidget-background': '#202020', '--vscode-editorHoverWidget-border': '#454545',
    '--vscode-charts-blue': '#3794ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#b180d7', '--vscode-charts-red': '#f14c4c', '--vscode-charts-yellow': '#cca700',
    '--vscode-editorWidget-border': '#454545', '--vscode-editorWidget-background': '#202020', '--vscode-button-background': '#0078d4',
    '--vscode-button-foreground': '#ffffff', '--vscode-dropdown-background': '#313131', '--vscode-dropdown-border': '#3c3c3c',
    '--vscode-input-foreground': '#cccccc', '--vscode-textLink-foreground': '#4daafc', '--vscode-editorWarning-foreground': '#cca700',
    '--vscode-editorError-foreground': '#f85149',
  },
  light: {
    '--vscode-font-family': 'system-ui, "Segoe UI", sans-serif', '--vscode-font-size': '13px', '--vscode-editor-font-family': 'monospace',
    '--vscode-editor-foreground': '#3b3b3b', '--vscode-editor-background': '#ffffff', '--vscode-sideBar-background': '#f8f8f8',
    '--vscode-descriptionForeground': '#717171', '--vscode-panel-border': '#e5e5e5', '--vscode-focusBorder': '#005fb8',
    '--vscode-list-hoverBackground': '#f2f2f2', '--vscode-list-inactiveSelectionBackground': '#e4e6f1',
    '--vscode-editorHoverWidget-background': '#f8f8f8', '--vscode-editorHoverWidget-border': '#c8c8c8',
    '--vscode-charts-blue': '#1a85ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#388a34',
    '--vscode-charts-purple': '#652d90', '--vscode-charts-red': '#e51400', '--vscode-charts-yellow': '#bf8803',
    '--vscode-editorWidget-border': '#c8c8c8', '--vscode-editorWidget-background': '#f8f8f8', '--vscode-button-background': '#005fb8',
    '--vscode-button-foreground': '#ffffff', '--vscode-dropdown-background': '#ffffff', '--vscode-dropdown-border': '#cecece',
    '--vscode-input-foreground': '#3b3b3b', '--vscode-textLink-foreground': '#005fb8', '--vscode-editorWarning-foreground': '#bf8803',
    '--vscode-editorError-foreground': '#e51400',
  },
};

const STUB = `// Stands in for VS Code's webview API: records posted messages and keeps state in memory.
window.__sent = [];
window.__state = undefined;
window.acquireVsCodeApi = () => ({
  postMessage: (m) => { window.__sent.push(m); },
  getState: () => window.__state,
  setState: (s) => { window.__state = s; },
});`;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.json': 'application/json', '.svg': 'image/svg+xml' };

function serve(runDir: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const origin = `http://${request.headers.host}`;
    const theme = (url.searchParams.get('theme') ?? 'dark') as 'dark' | 'light';
    if (url.pathname === '/') {
      const nonce = makeNonce();
      let html = dashboardHtml({ cspSource: origin, nonce, scriptUri: `${origin}/dist/webview.js`, styleUris: [`${origin}/dist/webview.css`, `${origin}/media/dashboard.css`, `${origin}/theme.css?theme=${theme}`], boot: { runDir } });
      html = html.replace('<body>', `<body class="vscode-${theme}">`).replace(`<script nonce="${nonce}" src=`, `<script nonce="${nonce}" src="${origin}/stub.js"></script>\n    <script nonce="${nonce}" src=`);
      response.writeHead(200, { 'content-type': 'text/html' }).end(html);
      return;
    }
    if (url.pathname === '/favicon.ico') { response.writeHead(204).end(); return; }
    if (url.pathname === '/stub.js') { response.writeHead(200, { 'content-type': 'text/javascript' }).end(STUB); return; }
    if (url.pathname === '/theme.css') {
      const vars = Object.entries(THEMES[theme]).map(([k, v]) => `${k}: ${v};`).join(' ');
      response.writeHead(200, { 'content-type': 'text/css' }).end(`html { ${vars} }`);
      return;
    }
    const file = url.pathname.startsWith('/run/') ? path.join(runDir, decodeURIComponent(url.pathname.slice(5))) : path.join(root, decodeURIComponent(url.pathname));
    if (!file.startsWith(root) && !file.startsWith(runDir)) { response.writeHead(403).end(); return; }
    if (!existsSync(file) || !statSync(file).isFile()) { response.writeHead(404).end(); return; }
    response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    resolve({ server, origin: `http://127.0.0.1:${address.port}` });
  }));
}

async function send(page: Page, message: HostToWebview): Promise<{ epoch: number; ms: number; featureGridMs: number }> {
  return page.evaluate((m) => new Promise<{ epoch: number; ms: number; featureGridMs: number }>((resolve) => {
    window.addEventListener('segscope-rendered', (e: { detail: { epoch: number; ms: number; featureGridMs: number } }) => resolve(e.detail), { once: true });
    window.postMessage(m, '*');
  }), message);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
}

async function main(): Promise<void> {
  if (!existsSync(path.join(root, 'dist', 'webview.js'))) throw new Error('dist/webview.js is missing: run node scripts/build.mjs first');
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath} (apt-get install -y chromium, or --chromium PATH)`);
  const work = mkdtempSync(path.join(tmpdir(), 'segscope-bench-'));
  const runDir = path.join(work, 'run');
  writeFakeRun(runDir, { epochs, name: 'bench' });
  const { info, epochs: allEpochs, findings } = await readRunFolder(runDir);
  const { server, origin } = await serve(runDir);
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
  const errors: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, deviceScaleFactor: 1 });
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/?theme=dark`);
    await page.waitForFunction(() => window.__sent.some((m: { type: string }) => m.type === 'ui/ready'));
    const run = (count: number): DashboardRun => ({ info, baseUri: `${origin}/run`, epochs: allEpochs.slice(0, count), findings, live: true, runDir });
    // Select the 256-channel layer, so every epoch update also redraws the 256-channel grid (the worst case).
    await send(page, { type: 'run/state', run: run(1) });
    await page.selectOption('#feature-layer-select', 'aspp/concat');
    await page.waitForFunction(() => document.querySelector('#feature-grid')?.dataset.layer === 'aspp/concat');
    const updates: number[] = [];
    for (let e = 2; e <= allEpochs.length; e++) {
      const r = await send(page, { type: 'epoch/added', metrics: allEpochs[e - 1] });
      updates.push(r.ms);
    }
    const loaded = await page.$$eval('.watch-image[data-loaded="true"]', (rows) => rows.map((r) => (r as unknown as Element).dataset.epoch));
    // Feature grid draw: redraw the 256-channel grid by switching normalisation and colour map; read the page's own draw timing.
    const draws: number[] = [];
    const modes: [string, string][] = [['layer', 'viridis'], ['channel', 'magma'], ['layer', 'magma'], ['channel', 'viridis']];
    for (let i = 0; i < 8; i++) {
      const [norm, map] = modes[i % modes.length];
      const before = await page.$eval('#feature-grid', (c) => (c as unknown as Element).dataset.drawMs);
      await page.selectOption(i % 2 ? '#feature-colormap' : '#feature-norm', i % 2 ? map : norm);
      await page.waitForFunction((b) => document.querySelector('#feature-grid')?.dataset.drawMs !== b, before).catch(() => undefined);
      draws.push(Number(await page.$eval('#feature-grid', (c) => (c as unknown as Element).dataset.drawMs)));
    }
    const channels = await page.$eval('#feature-grid', (c) => Number((c as unknown as Element).dataset.channels));
    const result = {
      chromium: browser.version(),
      watchImages: info.watch.images.length, imageSize: info.inputSize,
      epochUpdateMs: { median: median(updates), max: Math.max(...updates), samples: updates.map((v) => Math.round(v * 10) / 10) },
      featureGrid: { channels, tile: '32×32', drawMsMedian: median(draws), drawMsMax: Math.max(...draws), samples: draws },
      imagesShownAtEpoch: loaded,
      pageErrors: errors,
    };
    if (screenshots) {
      mkdirSync(screenshots, { recursive: true });
      for (const theme of ['dark', 'light'] as const) {
        await page.goto(`${origin}/?theme=${theme}`);
        await page.waitForFunction(() => window.__sent.some((m: { type: string }) => m.type === 'ui/ready'));
        await send(page, { type: 'run/state', run: { ...run(allEpochs.length), live: false, info: { ...info, status: 'finished' } } });
        await page.selectOption('#feature-layer-select', 'block2/relu');
        await page.click('#feature-grid', { position: { x: 20, y: 20 } });
        await page.waitForTimeout(300);
        await page.screenshot({ path: path.join(screenshots, `dashboard-${theme}.png`), fullPage: true });
        await page.evaluate(() => window.scrollTo(0, 0));
        const canvas = await page.$('.watch-image canvas[data-map="argmax"]');
        const box = await canvas!.boundingBox();
        await page.mouse.move(box!.x + box!.width * 0.45, box!.y + box!.height * 0.3);
        await page.waitForSelector('#pixel-readout .top3-row');
        await page.screenshot({ path: path.join(screenshots, `pixel-hover-${theme}.png`), clip: { x: 0, y: 0, width: 1400, height: 520 } });
        const row = await page.$('.layer-row[data-layer="block2/relu"]');
        await row!.scrollIntoViewIfNeeded();
        await row!.hover();
        await page.waitForSelector('#layer-tooltip .layer-thumb');
        const rowBox = await row!.boundingBox();
        await page.screenshot({ path: path.join(screenshots, `layer-hover-${theme}.png`), clip: { x: 0, y: Math.max(0, rowBox!.y - 200), width: 1400, height: 500 } });
      }
      // A narrow editor column, as when the dashboard opens beside segscope.json.
      await page.setViewportSize({ width: 480, height: 900 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(screenshots, 'dashboard-narrow-light.png') });
    }
    if (asJson) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`Chromium ${result.chromium}; ${result.watchImages} watch images at ${result.imageSize}²`);
      console.log(`epoch end → dashboard updated: median ${result.epochUpdateMs.median.toFixed(1)} ms, max ${result.epochUpdateMs.max.toFixed(1)} ms (${updates.length} epochs; includes the 256-channel grid)`);
      console.log(`feature grid ${channels} channels × 32×32: draw median ${result.featureGrid.drawMsMedian.toFixed(2)} ms, max ${result.featureGrid.drawMsMax.toFixed(2)} ms`);
      if (errors.length) console.log(`page errors: ${errors.join(' | ')}`);
      if (screenshots) console.log(`screenshots in ${screenshots}`);
    }
    if (errors.length) process.exitCode = 1;
  } finally {
    await browser.close();
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
