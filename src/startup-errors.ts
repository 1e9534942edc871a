/** One line that says what is wrong at start-up, without secrets or stack traces. */
export function describeStartupError(e: unknown): string {
  const err = e as { code?: string; message?: string; address?: string; port?: number; errors?: unknown[] };
  if (err?.code === 'EADDRINUSE')
    return `port ${err.port ?? ''} is already in use (set PORT to another port)`.replace('  ', ' ');
  if (err?.code === 'EACCES' && err.port !== undefined) return `no permission to listen on port ${err.port}`;
  const nested = Array.isArray(err?.errors) && err.errors.length ? (err.errors[0] as typeof err) : undefined;
  const code = err?.code ?? nested?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') {
    const where = nested?.address ?? err.address;
    return `cannot reach the database${where ? ` at ${where}${(nested?.port ?? err.port) ? `:${nested?.port ?? err.port}` : ''}` : ''} (${code}); check DATABASE_URL`;
  }
  if (code === '28P01' || code === '28000') return 'the database refused our credentials; check DATABASE_URL';
  if (code === '3D000') return `${err.message ?? 'database does not exist'}; check DATABASE_URL`;
  const message = (err?.message ?? String(e)).split('\n')[0].replace(/postgres(ql)?:\/\/[^@\s]*@/gi, 'postgres://***@');
  return message || 'unknown error';
}
