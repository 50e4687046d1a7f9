// What every dashboard view gets from the page (state, files, actions) and what it provides (a root element and a render method).
import type { WebviewToHost } from '../../../src/protocol/webview';
import type { DashboardState, ViewState } from '../model/dashboardState';
import type { RunFiles } from '../runFiles';
import type { ThemeColors } from '../theme';

export interface DashboardContext {
  state(): DashboardState;
  files(): RunFiles | null;
  theme(): ThemeColors;
  /** Changes view state (persisted) and re-renders. */
  setView(change: Partial<ViewState>): void;
  selectEpoch(epoch: number): void;
  post(message: WebviewToHost): void;
  reportError(error: unknown): void;
}

export interface View {
  readonly root: HTMLElement;
  /** Draws what changed between `previous` and `state`; resolves when the view shows `state`. */
  render(state: DashboardState, previous: DashboardState | null, reason: RenderReason): Promise<void> | void;
}

export type RenderReason = 'state' | 'view' | 'theme' | 'resize';

/** True when the run object itself (another run, or a fresh run/state) differs. */
export function runChanged(state: DashboardState, previous: DashboardState | null): boolean {
  return !previous || previous.run?.baseUri !== state.run?.baseUri || previous.run?.info.id !== state.run?.info.id;
}
