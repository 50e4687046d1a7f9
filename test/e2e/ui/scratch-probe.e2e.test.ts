// TEMPORARY probe (to be deleted): how the web workbench shows Add Function Breakpoint.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { launchChromium } from '../support/browser';
import { e2eEnvironment } from '../support/environment';
import { Workbench } from '../support/workbench';

it('probe', async () => {
  const env = e2eEnvironment();
  mkdirSync(env.workspacesDir, { recursive: true });
  const ws = mkdtempSync(path.join(env.workspacesDir, 'probe-'));
  writeFileSync(path.join(ws, 'segscope.json'), '{\n  "name": "x"\n}\n');
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const wb = new Workbench(page, env.serverUrl, 'probe');
  await wb.open(ws);
  await page.waitForTimeout(3000);
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget .quick-input-box input').waitFor({ state: 'visible', timeout: 10_000 });
  await page.keyboard.type('Add Function Breakpoint');
  await page.waitForTimeout(1500);
  console.log('ROWS', await page.locator('.quick-input-list .monaco-list-row').allInnerTexts());
  await wb.screenshot('palette');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(3000);
  await wb.screenshot('after');
  console.log('INPUTS', await page.locator('.debug-breakpoints input').count(), await page.locator('.debug-breakpoints').count());
  console.log('FOCUSED', await page.evaluate(() => { const d = (globalThis as any).document.activeElement; return d?.outerHTML?.slice(0, 300); }));
  await browser.close();
});
