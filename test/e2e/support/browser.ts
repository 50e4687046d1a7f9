// Headless Debian chromium through playwright-core, resolving nothing but loopback, plus a recorder of requests that leave it.
import { chromium, type Browser, type Page } from 'playwright-core';
import path from 'node:path';
import { CACHE } from './paths';
import { privateHome } from './server';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true, // playwright adds --headless and a fresh temporary profile
    env: { ...process.env, ...privateHome(path.join(CACHE, 'chromium-home')) },
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-domain-reliability',
      '--disable-features=AutofillServerCommunication,OptimizationHints,Translate,MediaRouter',
      // chromium still looks up Google hosts despite the flags above: resolve nothing but loopback
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    ],
  });
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Records every http(s)/ws(s) request of the page (and its webview frames) whose host is not loopback.
 * Webview resources use https://*.vscode-resource.vscode-cdn.net URLs that the webview's service worker answers
 * from the server over the existing connection; those are dropped again when their response came from the worker,
 * and so are requests the page itself blocked (CSP, ERR_BLOCKED_BY_*) before they reached the network.
 */
export function recordOffLoopbackRequests(page: Page): Set<string> {
  const offLoopback = new Set<string>();
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (/^(https?|wss?):$/.test(url.protocol) && !LOOPBACK.has(url.hostname)) offLoopback.add(request.url());
  });
  page.on('response', (response) => {
    if (response.fromServiceWorker()) offLoopback.delete(response.url());
  });
  page.on('requestfailed', (request) => {
    if (/BLOCKED_BY/.test(request.failure()?.errorText ?? '')) offLoopback.delete(request.url());
  });
  return offLoopback;
}
