import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import type { AppAbility } from '../../src/permissions/ability';
import { scopeToAbility } from '../../src/permissions/ability-to-sql';

export interface ProjectRow {
  id: string;
  organization_id: string;
  key: string;
  name: string;
}

/**
 * The query of one page of live projects as a list endpoint reads it: scoped to what the ability
 * may read (or unscoped with `null`), ordered by a stable key, the total count in the same query.
 */
export function projectPageQuery(
  db: DataSource | EntityManager,
  ability: AppAbility | null,
  page: { offset: number; limit: number },
): SelectQueryBuilder<object> {
  const qb = db
    .createQueryBuilder()
    .select([
      'p.id AS id',
      'p.organization_id AS organization_id',
      'p.key AS key',
      'p.name AS name',
      'count(*) OVER() AS total',
    ])
    .from('projects', 'p')
    .where('p.deleted_at IS NULL');
  if (ability) scopeToAbility(qb, ability, 'read', 'Project', 'p');
  return qb.orderBy('p.id').offset(page.offset).limit(page.limit);
}

export async function projectPage(
  db: DataSource | EntityManager,
  ability: AppAbility | null,
  page: { offset: number; limit: number },
): Promise<{ rows: ProjectRow[]; count: number }> {
  const raw: (ProjectRow & { total: string })[] = await projectPageQuery(db, ability, page).getRawMany();
  return { rows: raw.map(({ total: _total, ...row }) => row), count: raw.length ? Number(raw[0].total) : 0 };
}
