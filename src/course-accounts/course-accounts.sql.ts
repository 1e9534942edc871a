import type { DataSource, EntityManager } from 'typeorm';

/** Rows of a query: TypeORM answers UPDATE/DELETE … RETURNING with `[rows, count]` on PostgreSQL. */
export async function selectRows<T>(db: DataSource | EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  const result: unknown = await db.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}
