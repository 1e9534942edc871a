import type { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { Settings } from '../config/settings.schema';

/**
 * The rows of one SQL statement, run through TypeORM (so inside `tx` when given an EntityManager).
 * The one way to run hand-written SQL; TypeORM answers UPDATE/DELETE … RETURNING with
 * `[rows, count]` on PostgreSQL and everything else with `rows`, and this always gives `rows`.
 */
export async function queryRows<T>(db: DataSource | EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  const result: unknown = await db.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}

/** `name` when DATABASE_PREPARED_STATEMENTS is on, for plainQuery's `preparedAs`. */
export function statementName(
  settings: Pick<Settings, 'DATABASE_PREPARED_STATEMENTS'>,
  name: string,
): string | undefined {
  return settings.DATABASE_PREPARED_STATEMENTS ? name : undefined;
}

/**
 * A statement on the connection pool itself, without TypeORM's query runner: for the few statements every
 * request or every job makes (principal lookups, job claims), where that bookkeeping is a measurable share.
 * Not for writes that must join a transaction — use the EntityManager for those.
 *
 * With `preparedAs`, the statement is a named prepared statement: parsed and planned once per connection
 * instead of on every call (pass it only when DATABASE_PREPARED_STATEMENTS is on; each name must always
 * carry the same SQL).
 */
export async function plainQuery<T>(
  dataSource: DataSource,
  sql: string,
  params: unknown[],
  preparedAs?: string,
): Promise<T[]> {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  if (!pool) return dataSource.query(sql, params);
  const { rows } = await pool.query(
    preparedAs ? { name: preparedAs, text: sql, values: params } : { text: sql, values: params },
  );
  return rows as T[];
}
