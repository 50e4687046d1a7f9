// Steps of one user story in an e2e suite: once a step that later ones build on fails, those fail at once naming it,
// instead of each waiting out its own timeouts (reported as failures, not skipped).
import { it } from 'node:test';

export function chainedSteps(): {
  /** A step the later ones depend on. */
  step: (name: string, body: () => Promise<void>) => void;
  /** A check that needs the earlier steps but nothing depends on. */
  check: (name: string, body: () => Promise<void>) => void;
} {
  let failedStep: string | undefined;
  const chained = (name: string, body: () => Promise<void>, dependedOn: boolean) => it(name, async () => {
    if (failedStep) throw new Error(`not attempted: the earlier step "${failedStep}" failed`);
    try {
      await body();
    } catch (error) {
      if (dependedOn) failedStep = name;
      throw error;
    }
  });
  return {
    step: (name, body) => { chained(name, body, true); },
    check: (name, body) => { chained(name, body, false); },
  };
}
