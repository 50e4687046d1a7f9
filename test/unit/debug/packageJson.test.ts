// package.json mirrors the debugger's code: the launch attributes, the breakpoint languages, and snippets that use only known attributes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LAUNCH_ARGUMENT_NAMES } from '../../../src/debug/adapter';
import { TIMELINE_SCHEME } from '../../../src/debug/breakpoints';

const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8'));

describe('package.json contributes for the segscope debugger', () => {
  const debuggers = (pkg.contributes?.debuggers ?? []) as { type: string; configurationAttributes: { launch: { properties: Record<string, unknown>; required: string[] } }; initialConfigurations: Record<string, unknown>[]; configurationSnippets: { body: Record<string, unknown> }[] }[];
  const segscope = debuggers.find((d) => d.type === 'segscope');

  it('declares exactly the launch arguments the adapter reads', () => {
    assert.ok(segscope, 'a debugger of type segscope');
    assert.deepEqual(Object.keys(segscope.configurationAttributes.launch.properties).sort(), [...LAUNCH_ARGUMENT_NAMES].sort());
    assert.deepEqual(segscope.configurationAttributes.launch.required, ['config']);
  });

  it('uses only known attributes in initial configurations and snippets', () => {
    const known = new Set<string>(['type', 'request', 'name', ...LAUNCH_ARGUMENT_NAMES]);
    for (const config of [...segscope!.initialConfigurations, ...segscope!.configurationSnippets.map((s) => s.body)]) {
      for (const key of Object.keys(config)) assert.ok(known.has(key), `unknown launch attribute ${key}`);
      assert.equal(config.type, 'segscope');
      assert.ok(typeof config.config === 'string');
    }
  });

  it('allows breakpoints in segscope.json and in the SegScope Timeline', () => {
    const languages = (pkg.contributes.breakpoints as { language: string }[]).map((b) => b.language);
    assert.deepEqual(languages.sort(), ['json', TIMELINE_SCHEME].sort());
  });
});
