import * as mk from '../../../src/cli/commands/makeDemoData';
import * as au from '../../../src/cli/commands/audit';
(async () => {
  console.log('rc', await mk.run(['/tmp/d8/demo2', '--count', '20']));
  console.log('rc', await au.run(['/tmp/d8/demo2']));
})();
