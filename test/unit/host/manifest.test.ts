// package.json mirrors the code: every contributed command is registered, every registered command is contributed, and menus name real commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const source = ['src/host/commands.ts', 'src/host/layerHoverProvider.ts'].map((f) => readFileSync(path.join(root, f), 'utf8')).join('\n');

test('contributed commands and registered commands are the same set', () => {
  const contributed = new Set<string>(manifest.contributes.commands.map((c: { command: string }) => c.command));
  const registered = new Set<string>([...source.matchAll(/register\('(segscope\.[\w.]+)'/g)].map((m) => m[1]));
  registered.add('segscope.showLayer'); // registered through the SHOW_LAYER_COMMAND constant
  assert.ok(source.includes("SHOW_LAYER_COMMAND = 'segscope.showLayer'"));
  const ours = [...contributed].filter((c) => !c.startsWith('segscope.debug.') || registered.has(c));
  assert.deepEqual(ours.filter((c) => !registered.has(c)), [], 'contributed but not registered');
  assert.deepEqual([...registered].filter((c) => !contributed.has(c)), [], 'registered but not contributed');
  for (const id of ['segscope.startTraining', 'segscope.stopTraining', 'segscope.pauseTraining', 'segscope.resumeTraining', 'segscope.openRun',
    'segscope.chooseWatchImages', 'segscope.createDemoProject', 'segscope.showDashboard']) assert.ok(contributed.has(id), id);
});

test('menus only name contributed commands; palette titles are as the issue names them', () => {
  const contributed = new Map<string, { title: string; category: string }>(manifest.contributes.commands.map((c: { command: string; title: string; category: string }) => [c.command, c]));
  for (const [menu, items] of Object.entries(manifest.contributes.menus as Record<string, { command: string }[]>)) {
    for (const item of items) assert.ok(contributed.has(item.command), `${menu}: ${item.command}`);
  }
  const title = (id: string) => `${contributed.get(id)!.category}: ${contributed.get(id)!.title}`;
  assert.equal(title('segscope.startTraining'), 'SegScope: Start Training');
  assert.equal(title('segscope.openRun'), 'SegScope: Open Run…');
  assert.equal(title('segscope.chooseWatchImages'), 'SegScope: Choose Watch Images…');
  assert.equal(title('segscope.createDemoProject'), 'SegScope: Create Demo Project');
});

test('activation, schema and settings point at things that exist', () => {
  assert.ok(manifest.activationEvents.includes('workspaceContains:**/segscope.json'));
  assert.ok(manifest.activationEvents.includes('onWebviewPanel:segscope.dashboard'));
  assert.ok(source.length > 0);
  for (const v of manifest.contributes.jsonValidation) JSON.parse(readFileSync(path.join(root, v.url), 'utf8'));
  assert.ok(manifest.contributes.configuration.properties['segscope.trainerPath']);
  assert.ok(readFileSync(path.join(root, 'src/host/dashboardPanel.ts'), 'utf8').includes("DASHBOARD_VIEW_TYPE = 'segscope.dashboard'"));
});
