/** SQLSTATE classes and driver messages that mean "the database is not reachable right now". */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
]);
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Connection terminated unexpectedly',
  'Client has encountered a connection error',
  'Cannot use a pool after calling end',
];

export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: string; message?: string; driverError?: unknown; cause?: unknown };
  if (e.code && (UNAVAILABLE_SQLSTATES.has(e.code) || UNAVAILABLE_NODE_CODES.has(e.code))) return true;
  if (e.message && UNAVAILABLE_MESSAGES.some((m) => e.message!.includes(m))) return true;
  if (e.driverError && e.driverError !== error) return isDatabaseUnavailable(e.driverError);
  if (e.cause && e.cause !== error) return isDatabaseUnavailable(e.cause);
  return false;
}

/** Whether a PostgreSQL error, pg's own or wrapped by TypeORM (its driverError), has one of these SQLSTATEs. */
function hasSqlState(error: unknown, states: ReadonlySet<string>): boolean {
  const e = error as { code?: string; driverError?: { code?: string } } | undefined;
  return states.has(e?.code ?? '') || states.has(e?.driverError?.code ?? '');
}

const UNIQUE_VIOLATION = new Set(['23505']);
const FOREIGN_KEY_VIOLATION = new Set(['23503']);

/** PostgreSQL unique_violation. */
export function isUniqueViolation(error: unknown): boolean {
  return hasSqlState(error, UNIQUE_VIOLATION);
}

/** PostgreSQL foreign_key_violation: the row is still referenced, or references a missing row. */
export function isForeignKeyViolation(error: unknown): boolean {
  return hasSqlState(error, FOREIGN_KEY_VIOLATION);
}

/**
 * PostgreSQL refused a text value it cannot store: a NUL character or one the encoding lacks (22021,
 * 22P05), or a string longer than its column (22001). Such values come from requests: a 400, not a 500.
 */
const UNSTORABLE_TEXT_SQLSTATES = new Set(['22021', '22P05', '22001']);

export function isUnstorableText(error: unknown): boolean {
  return hasSqlState(error, UNSTORABLE_TEXT_SQLSTATES);
}
