/**
 * A Google API error as one line: `HTTP 404 NOT_FOUND: Secret Version [...] not found.` The Google
 * clients put the raw JSON error body in their message; this keeps its code, status and message.
 */
export function describeGoogleError(e: unknown): Error {
  const err = e as Error & { code?: unknown };
  let body: { error?: { code?: number; status?: string; message?: string } } | undefined;
  try {
    body = JSON.parse(err.message) as typeof body;
  } catch {
    return err;
  }
  const { code = err.code, status, message } = body?.error ?? {};
  if (code === undefined && !message) return err;
  const head = [code !== undefined ? `HTTP ${String(code)}` : '', status ?? ''].filter(Boolean).join(' ');
  return new Error(message ? `${head}: ${message}` : head);
}
