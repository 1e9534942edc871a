import type { DataSource, EntityManager } from 'typeorm';

/**
 * The one definition of "the same e-mail, username or key, whatever the case": PostgreSQL's
 * `lower()`, which the case-insensitive unique indexes use (`lower(email)`, `lower(username)`).
 * JavaScript's toLowerCase() folds some letters differently (`İ` becomes `i̇`, two code points,
 * where the database's `lower()` may give `i`), so duplicates found with it miss rows the index then
 * refuses. Returns the folded values in the order given, in one statement.
 */
export async function foldCase(db: DataSource | EntityManager, values: readonly string[]): Promise<string[]> {
  if (values.length === 0) return [];
  const rows: { folded: string }[] = await db.query(
    `SELECT lower(v) AS folded FROM unnest($1::text[]) WITH ORDINALITY AS t(v, i) ORDER BY i`,
    [values],
  );
  return rows.map((r) => r.folded);
}
