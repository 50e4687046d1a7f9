// Runs an --extensionTestsPath mocha suite inside the VS Code server's real (Node) extension host, offline:
// the paths go into the workbench's `payload` URL parameter and the exit code comes back via window.codeAutomationExit.
import path from 'node:path';
import { format } from 'node:util';
import { launchChromium } from './browser';

export interface ExtensionTestRun {
  /** URL of a running VS Code server (see server.ts). */
  baseUrl: string;
  /** Folders of extensions under development (the repository for SegScope). */
  developmentPaths: string[];
  /** The bundled suite's index.js, which exports run(). */
  testsPath: string;
  /** Workspace folder to open, if any. */
  folder?: string;
  timeoutMs?: number;
  /** Where the extension host's console output (mocha's reporter) goes. */
  log?: (line: string) => void;
}

/** Workbench chatter mirrored into the page console that says nothing about the tests. */
const NOISE = /^(Resolving connection token|Resolved connection token|Creating a socket|Updating additional builtin|\[Service Worker\]|ChatSessionStore|Overwriting extension|The web worker extension host is started|An iframe which has both|Found unexpected service worker controller|Failed to load resource|Ignoring fetching additional builtin|A bad HTTP response code \(404\) was received when fetching the script)/;

/** Resolves with the suite's exit code (0 = all passed). */
export async function runExtensionTests(run: ExtensionTestRun): Promise<number> {
  const log = run.log ?? ((line: string) => console.log(line));
  const host = new URL(run.baseUrl).host;
  const remote = (p: string) => `vscode-remote://${host}${path.resolve(p)}`;
  const payload = [
    ...run.developmentPaths.map((p) => ['extensionDevelopmentPath', remote(p)]),
    ['extensionTestsPath', remote(run.testsPath)],
  ];
  const where = run.folder ? `folder=${encodeURIComponent(path.resolve(run.folder))}` : 'ew=true';
  const url = `${run.baseUrl}/?${where}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const browser = await launchChromium();
  let timer: NodeJS.Timeout | undefined;
  try {
    const page = await browser.newPage();
    const exited = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    page.on('console', async (message) => {
      // The extension host's console is mirrored into the page as ('%c INFO', 'color: …', format, ...args):
      // format it again so mocha's spec reporter reads normally.
      let args: unknown[] = await Promise.all(message.args().map((a) => a.jsonValue().catch(() => '?')));
      let level: string = message.type();
      if (typeof args[0] === 'string' && args[0].startsWith('%c')) {
        level = args[0].slice(2).trim() || level;
        args = args.slice(2);
      }
      const text = (args.length ? format(...args) : message.text()).trimEnd();
      if (process.env.E2E_VERBOSE || !NOISE.test(text)) log(level === 'INFO' || level === 'log' ? text : `[${level}] ${text}`);
    });
    await page.goto(url);
    const timeoutMs = run.timeoutMs ?? 300_000;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no window.codeAutomationExit from the extension host within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    return await Promise.race([exited, timedOut]);
  } finally {
    clearTimeout(timer);
    await browser.close();
  }
}
