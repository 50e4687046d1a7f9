// Creates the demo project through the palette and shortens its segscope.json for a quick e2e run.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { SegScopeConfig } from '../../../src/protocol/config';
import type { Workbench } from './workbench';

/**
 * Runs "SegScope: Create Demo Project", applies `shorten` to the written config (it must set a distinctive `name`),
 * and waits until the open editor shows the change, so that Start Training reads the new text. Returns the config path.
 */
export async function createShortDemoProject(
  workbench: Workbench, page: Page, workspace: string, shorten: (config: SegScopeConfig) => void,
): Promise<string> {
  await workbench.runCommand('SegScope: Create Demo Project');
  const configPath = path.join(workspace, 'demo-data', 'segscope.json');
  await workbench.waitFor('segscope.json to open in an editor', () => workbench.tab('segscope.json').waitFor({ timeout: 120_000 }));
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as SegScopeConfig;
  shorten(config);
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  await workbench.waitFor(`the editor to show the shortened segscope.json (name "${config.name}")`, () =>
    page.locator('.editor-instance .view-lines', { hasText: config.name }).first().waitFor({ timeout: 30_000 }));
  return configPath;
}
