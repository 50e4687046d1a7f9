// What run.sh hands to the node:test suites: the running server's URL and the throw-away state folder.
import path from 'node:path';

export interface E2eEnvironment {
  serverUrl: string;
  stateDir: string;
  /** Temp workspaces of the tests go here (inside the state folder, so run.sh finds their logs). */
  workspacesDir: string;
}

export function e2eEnvironment(): E2eEnvironment {
  const serverUrl = process.env.E2E_URL;
  const stateDir = process.env.E2E_STATE;
  if (!serverUrl || !stateDir) {
    throw new Error('E2E_URL / E2E_STATE are not set: run the end-to-end tests through bash test/e2e/run.sh');
  }
  return { serverUrl, stateDir, workspacesDir: path.join(stateDir, 'workspaces') };
}
