// Errors about a user's model or weights file: always name the file, and the first layer that does not fit if known.

export class UserFileError extends Error {
  constructor(readonly file: string, message: string, readonly layer?: string) {
    super(`${file}: ${message}`);
  }
}

/** Re-throws anything from a file read as a UserFileError naming the file (keeps UserFileErrors as they are). */
export function fileError(file: string, what: string, err: unknown): UserFileError {
  if (err instanceof UserFileError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new UserFileError(file, `${what}: ${message.split('\n')[0]}`);
}
