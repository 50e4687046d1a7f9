// Stand-alone SegScope debug adapter over stdio: `node dist/debugAdapter.js [--trainer <script>]`.
// The trainer script defaults to dist/trainer.js next to this file; SEGSCOPE_TRAINER in the environment also sets it.
import path from 'node:path';
import { SegScopeDebugSession } from './adapter';
import { forkTrainer } from './trainerChannel';

function trainerScript(argv: string[]): string {
  const flag = argv.indexOf('--trainer');
  if (flag >= 0 && argv[flag + 1]) return path.resolve(argv[flag + 1]);
  const inline = argv.find((a) => a.startsWith('--trainer='));
  if (inline) return path.resolve(inline.slice('--trainer='.length));
  if (process.env.SEGSCOPE_TRAINER) return path.resolve(process.env.SEGSCOPE_TRAINER);
  return path.join(__dirname, 'trainer.js');
}

const session = new SegScopeDebugSession(forkTrainer(trainerScript(process.argv.slice(2))));
process.on('exit', () => session.dispose());
session.start(process.stdin, process.stdout);
