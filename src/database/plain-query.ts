import type { Pool } from 'pg';
import { DataSource } from 'typeorm';

/**
 * A read on the connection pool itself, without TypeORM's query runner: for the few queries every
 * request makes (principal and membership lookups), where that bookkeeping is a measurable share of
 * the request. Not for writes that must join a transaction — use the EntityManager for those.
 */
export async function plainQuery<T>(dataSource: DataSource, sql: string, params: unknown[]): Promise<T[]> {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  if (!pool) return dataSource.query(sql, params);
  const { rows } = await pool.query(sql, params);
  return rows as T[];
}
