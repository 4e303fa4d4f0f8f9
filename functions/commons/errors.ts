/** `Name: message`, for logs and problem details; never a stack or a request body. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
