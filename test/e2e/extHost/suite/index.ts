// Entry point of the extension-host suite (--extensionTestsPath): VS Code require()s it and awaits run(); a rejection means failure.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
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
