// The dashboard page's CSP is strict and every script carries the nonce; boot JSON cannot break out of its script element.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, dashboardHtml, makeNonce } from '../../../src/host/dashboardHtml';

const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

function page(boot: Record<string, unknown> = { runDir: '/tmp/run' }) {
  const nonce = makeNonce();
  return { nonce, html: dashboardHtml({ cspSource: CSP_SOURCE, nonce, scriptUri: `${CSP_SOURCE}/dist/webview.js`, styleUris: [`${CSP_SOURCE}/media/dashboard.css`], boot }) };
}

test('the CSP denies by default and allows only nonce scripts and the webview source', () => {
  const nonce = 'abc';
  const csp = contentSecurityPolicy(CSP_SOURCE, nonce);
  const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
  assert.deepEqual(directives['default-src'], ["'none'"]);
  assert.deepEqual(directives['script-src'], [`'nonce-${nonce}'`]);
  assert.deepEqual(directives['style-src'], [CSP_SOURCE]);
  assert.deepEqual(directives['connect-src'], [CSP_SOURCE]);
  assert.deepEqual(directives['img-src'], [CSP_SOURCE, 'blob:', 'data:']);
  assert.ok(!/unsafe-(inline|eval)/.test(csp));
});

test('every script element carries the nonce and the page has no inline styles or handlers', () => {
  const { nonce, html } = page();
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  assert.ok(scripts.length >= 2);
  for (const s of scripts) assert.ok(s.includes(`nonce="${nonce}"`), s);
  assert.ok(!/\sstyle=/.test(html));
  assert.ok(!/\son[a-z]+=/.test(html));
  assert.ok(html.includes(`content="default-src 'none'`));
});

test('nonces are fresh and long', () => {
  const a = makeNonce(), b = makeNonce();
  assert.notEqual(a, b);
  assert.ok(a.length >= 32 && /^[A-Za-z0-9_-]+$/.test(a));
});

test('boot JSON with markup stays inside its script element and round-trips', () => {
  const boot = { runDir: '/tmp/</script><script>alert(1)</script>&<!--' };
  const { html } = page(boot);
  const match = /<script type="application\/json" id="segscope-boot"[^>]*>([\s\S]*?)<\/script>/.exec(html);
  assert.ok(match);
  assert.deepEqual(JSON.parse(match[1]), boot);
  assert.equal((html.match(/<\/script>/g) ?? []).length, 2);
});
