// Drives the VS Code web workbench in chromium: open a folder, run palette commands by title, reach into webviews,
// and wait on named signals so that a failure says what it waited for and where its screenshot is.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { RESULTS } from './paths';

/** What the failing test waited for and its last screenshot; run.sh prints this file when the suite fails. */
export const LAST_FAILURE_FILE = path.join(RESULTS, 'last-failure.txt');

/** A failed wait; its message is the report written to last-failure.txt. */
export class WaitFailed extends Error {}

export class Workbench {
  private screenshotCount = 0;

  constructor(readonly page: Page, readonly baseUrl: string, private readonly testName: string) {
    mkdirSync(RESULTS, { recursive: true });
  }

  /** Saves a screenshot under test-results/ and returns its path. */
  async screenshot(label: string): Promise<string> {
    const file = path.join(RESULTS, `${slug(this.testName)}-${String(++this.screenshotCount).padStart(2, '0')}-${slug(label)}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /**
   * Runs `until` (a wait on a real signal) and, if it fails or times out, takes a screenshot, writes
   * test-results/e2e/last-failure.txt (what it waited for, the screenshot, visible notifications) and throws.
   */
  async waitFor<T>(what: string, until: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await until();
    } catch (error) {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      let shot = '(no screenshot: the page is gone)';
      try {
        shot = await this.screenshot(`FAILED-${what}`);
      } catch {
        // the browser may already be closed
      }
      const notes = await this.notifications().catch(() => []);
      const report = [
        `test:        ${this.testName}`,
        `waited for:  ${what} (gave up after ${seconds} s)`,
        `screenshot:  ${shot}`,
        `cause:       ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
        ...notes.map((n) => `notification: ${n}`),
      ].join('\n');
      writeFileSync(LAST_FAILURE_FILE, `${report}\n`);
      throw new WaitFailed(`${report}\n`, { cause: error });
    }
  }

  /** Opens the workbench on a folder and waits until the remote extension host is connected. */
  async open(folder: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/?folder=${encodeURIComponent(folder)}`);
    await this.waitFor('the workbench to load', () => this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 }));
    await this.waitFor('the status bar', () => this.page.locator('.statusbar').waitFor({ timeout: 30_000 }));
  }

  /**
   * F1, type the title, Enter. The palette lists the commands known when it opens; if the extension is not
   * registered yet, close it and open it again until the title shows up or the deadline passes.
   */
  async runCommand(title: string, deadlineMs = 60_000): Promise<void> {
    const end = Date.now() + deadlineMs;
    await this.waitFor(`the command "${title}" in the command palette`, async () => {
      for (;;) {
        await this.page.keyboard.press('F1');
        await this.page.locator('.quick-input-widget .quick-input-box input').waitFor({ state: 'visible', timeout: 10_000 });
        await this.page.keyboard.type(title); // F1 already typed the '>' prefix
        const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
        try {
          await row.waitFor({ timeout: 3_000 });
          await this.page.keyboard.press('Enter');
          return;
        } catch (error) {
          await this.page.keyboard.press('Escape');
          if (Date.now() > end) throw error;
          await this.page.waitForTimeout(500);
        }
      }
    });
  }

  /** The quick pick / input box the workbench shows (for commands that ask something). */
  quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /**
   * The document inside the visible webview (the last one if several are visible): the editor shows an outer
   * iframe.webview (served by the server) that hosts the extension's page in the inner #active-frame.
   */
  webview(): FrameLocator {
    return this.page.locator('iframe.webview.ready').filter({ visible: true }).last().contentFrame().frameLocator('#active-frame');
  }

  /** The tab of an editor whose label contains `title`. */
  tab(title: string | RegExp): Locator {
    return this.page.locator('.tabs-container .tab', { hasText: title });
  }

  /** Texts of the notification toasts on screen. */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notification-toast .notification-list-item-message').allInnerTexts();
  }
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60).toLowerCase();
}
