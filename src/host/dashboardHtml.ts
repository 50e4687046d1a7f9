// The dashboard page: strict CSP (scripts by nonce, everything else from the webview's own source), the bundled script and styles, and one nonce'd JSON boot blob. Pure: no vscode.

export interface DashboardPageOptions {
  /** webview.cspSource */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUris: string[];
  /** Small settings the page needs before the first message (never run data). */
  boot: Record<string, unknown>;
}

/** A fresh nonce: 32 characters from a cryptographic source. */
export function makeNonce(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64').replace(/[+/=]/g, (c) => ({ '+': '-', '/': '_', '=': '' })[c] ?? '');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} blob: data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `connect-src ${cspSource}`,
  ].join('; ');
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** JSON that is safe inside a <script> element (no "</script>", no HTML comment openers). */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

export function dashboardHtml(o: DashboardPageOptions): string {
  const styles = o.styleUris.map((u) => `<link rel="stylesheet" href="${escapeAttribute(u)}">`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${escapeAttribute(contentSecurityPolicy(o.cspSource, o.nonce))}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    ${styles}
    <title>SegScope</title>
  </head>
  <body>
    <div id="segscope-root" data-testid="dashboard-root"></div>
    <script type="application/json" id="segscope-boot" nonce="${o.nonce}">${scriptSafeJson(o.boot)}</script>
    <script nonce="${o.nonce}" src="${escapeAttribute(o.scriptUri)}"></script>
  </body>
</html>`;
}
