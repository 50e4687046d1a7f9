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
 * Records the http(s)/ws(s) requests of the page (and its webview frames) to hosts other than loopback that went out:
 * answered by the network, or failed in the network (e.g. a name chromium may not resolve). Webview resources use
 * https://*.vscode-resource.vscode-cdn.net URLs that the webview's service worker answers from the server over the
 * existing connection: they are answered "from the service worker" and do not count; neither do requests the page
 * blocked itself (CSP: 'csp', ERR_BLOCKED_BY_*) or dropped (ERR_ABORTED), nor those still in flight.
 */
export function recordOffLoopbackRequests(page: Page): Set<string> {
  const wentOut = new Set<string>();
  const offLoopback = (url: string) => {
    const parsed = new URL(url);
    return /^(https?|wss?):$/.test(parsed.protocol) && !LOOPBACK.has(parsed.hostname);
  };
  page.on('response', (response) => {
    if (offLoopback(response.url()) && !response.fromServiceWorker()) wentOut.add(response.url());
  });
  page.on('requestfailed', (request) => {
    if (offLoopback(request.url()) && !/BLOCKED_BY|ERR_ABORTED|^csp$/.test(request.failure()?.errorText ?? '')) {
      wentOut.add(`${request.url()} (${request.failure()?.errorText})`);
    }
  });
  return wentOut;
}
