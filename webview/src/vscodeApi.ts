// The page's link to the host: typed postMessage and the persisted view state (acquireVsCodeApi may be called once).
import type { WebviewToHost } from '../../src/protocol/webview';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api: VsCodeApi = typeof acquireVsCodeApi === 'function'
  ? acquireVsCodeApi()
  : { postMessage: () => undefined, getState: () => undefined, setState: () => undefined };

export function postToHost(message: WebviewToHost): void {
  api.postMessage(message);
}

export function loadViewState(): unknown {
  return api.getState();
}

export function saveViewState(state: unknown): void {
  api.setState(state);
}
