// Entry point of the extension-host suite (--extensionTestsPath): VS Code require()s it and awaits run(); a rejection means failure.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  // The launchers give the whole suite 300 s (runExtensionTests' default, the codeShim route) or 330 s (offline.e2e.test.ts),
  // workbench start included. The tests that train set their own timeouts from their waits (findings 140 s, training
  // 90 s), so even both timing out leave room for the rest; keep it so when adding waits.
  const mocha = new Mocha({ ui: 'bdd', color: false, reporter: 'spec', timeout: 120_000 });
  const grep = process.env.SEGSCOPE_EXTHOST_GREP;
  if (grep) mocha.grep(new RegExp(grep));
  // run.sh bundles every suite/*.test.ts next to this file as *.test.js
  for (const file of fs.readdirSync(__dirname).sort()) {
    if (file.endsWith('.test.js')) mocha.addFile(path.join(__dirname, file));
  }
  return new Promise((resolve, reject) => {
    mocha.run((failures) => {
      console.log(`SEGSCOPE_EXTHOST_DONE failures=${failures}`);
      if (failures > 0) reject(new Error(`${failures} extension-host test(s) failed`));
      else resolve();
    });
  });
}
