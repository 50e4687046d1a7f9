// The one gate for reading a user's model or weights files: allowed only in a trusted workspace (or with --trust).

/** Thrown when a user file would be loaded without trust; the message says how to grant it. */
export class UntrustedFileError extends Error {}

/**
 * Refuses to go on unless `trusted`. The CLI passes `--trust`, the extension passes `vscode.workspace.isTrusted`:
 * a model.json names weight files to read and a custom layer could run code, so untrusted folders may not load them.
 */
export function assertTrusted(trusted: boolean, file: string): void {
  if (trusted) return;
  throw new UntrustedFileError(
    `Refusing to load ${file}: loading a model or weights file needs a trusted workspace (VS Code: trust the folder; CLI: pass --trust)`,
  );
}
