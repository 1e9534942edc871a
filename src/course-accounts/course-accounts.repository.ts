import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { ProjectsService } from '../accounts/projects/projects.service';
import { Listed, pageOf } from '../common/pagination/pagination';
import { containsPattern } from '../common/sql/contains-pattern';
import { queryRows } from '../database/query';
import type { AppAbility } from '../permissions/ability';
import { scopeList } from '../permissions/user-has-perm';
import { CourseAccount } from './course-account.entity';
import type { CourseAccountQuery } from './dto/course-account.dto';

/** The list's orderings: columns of the account, or the project's end date (an SQL expression of ProjectsService). */
const ORDER_COLUMNS = {
  created: 'ca.created_at',
  username: 'ca.username',
  state: 'ca.state',
  project_end_date: null,
} as const;

/**
 * Reads of `course_accounts` (the state machine is what writes them). A condition given as SQL
 * (`where`) is on the alias `ca`.
 */
@Injectable()
export class CourseAccountsRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly projects: ProjectsService,
  ) {}

  findById(id: string, tx?: EntityManager): Promise<CourseAccount | null> {
    return (tx ?? this.db.manager).findOneBy(CourseAccount, { id });
  }

  /** The account, which must exist (foreign keys and soft deletion keep every account row). */
  getById(id: string): Promise<CourseAccount> {
    return this.db.manager.findOneByOrFail(CourseAccount, { id });
  }

  /** Accounts by id, oldest first (or in id order); unknown ids are left out. */
  findByIds(ids: string[], order: 'created' | 'id' = 'created'): Promise<CourseAccount[]> {
    return this.db.getRepository(CourseAccount).find({
      where: { id: In(ids) },
      order: order === 'created' ? { createdAt: 'ASC', id: 'ASC' } : { id: 'ASC' },
    });
  }

  /** One page of the accounts the ability may read, filtered and ordered as the query asks; scoped in SQL. */
  page(ability: AppAbility, q: CourseAccountQuery): Promise<Listed<CourseAccount>> {
    // The project's dates filter and order in the same statement.
    const startDate = this.projects.columnSql('start_date', 'ca.project_id');
    const endDate = this.projects.columnSql('end_date', 'ca.project_id');
    const qb = this.db.getRepository(CourseAccount).createQueryBuilder('ca');
    scopeList(qb, ability, q.user_has_perm, 'CourseAccount', 'ca');
    if (q.username) qb.andWhere(`ca.username ILIKE :username`, { username: containsPattern(q.username) });
    if (q.email) qb.andWhere(`ca.email ILIKE :email`, { email: containsPattern(q.email) });
    if (q.state?.length) qb.andWhere('ca.state IN (:...states)', { states: q.state });
    if (q.project) qb.andWhere('ca.project_id = :project', { project: q.project });
    if (q.organization) qb.andWhere('ca.organization_id = :organization', { organization: q.organization });
    if (q.project_start_date_after)
      qb.andWhere(`${startDate} >= :startAfter`, { startAfter: q.project_start_date_after });
    if (q.project_start_date_before)
      qb.andWhere(`${startDate} <= :startBefore`, { startBefore: q.project_start_date_before });
    if (q.project_end_date_after) qb.andWhere(`${endDate} >= :endAfter`, { endAfter: q.project_end_date_after });
    if (q.project_end_date_before) qb.andWhere(`${endDate} <= :endBefore`, { endBefore: q.project_end_date_before });
    const ordering = q.ordering ?? '-created';
    const direction = ordering.startsWith('-') ? 'DESC' : 'ASC';
    const column = ORDER_COLUMNS[ordering.replace(/^-/, '') as keyof typeof ORDER_COLUMNS] ?? endDate;
    qb.orderBy(column, direction, direction === 'ASC' ? 'NULLS LAST' : 'NULLS FIRST').addOrderBy('ca.id', direction);
    return pageOf(qb, q);
  }

  /** The project's accounts that are not CLOSED and whose e-mail folds (foldCase) to one of `keys`, in `tx`. */
  liveWithEmails(
    tx: EntityManager,
    projectId: string,
    keys: string[],
  ): Promise<{ id: string; key: string; state: CourseAccount['state'] }[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return queryRows(
      tx,
      `SELECT id, state, lower(email) AS key FROM course_accounts WHERE project_id = $1 AND state <> 'CLOSED' AND lower(email) = ANY($2::text[])`,
      [projectId, keys],
    );
  }

  /** Whether the project has an account that is not CLOSED. */
  async hasLive(projectId: string): Promise<boolean> {
    const rows = await queryRows(
      this.db,
      `SELECT 1 FROM course_accounts WHERE project_id = $1 AND state <> 'CLOSED' LIMIT 1`,
      [projectId],
    );
    return rows.length > 0;
  }

  /** Ids of the project's PENDING accounts. */
  async pendingIdsOf(projectId: string): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      this.db,
      `SELECT id FROM course_accounts WHERE project_id = $1 AND state = 'PENDING'`,
      [projectId],
    );
    return rows.map((r) => r.id);
  }

  /** How many accounts match `where`. */
  async count(where: string, params: unknown[]): Promise<number> {
    const [{ n }] = await queryRows<{ n: number }>(
      this.db,
      `SELECT count(*)::int AS n FROM course_accounts ca WHERE ${where}`,
      params,
    );
    return n;
  }

  /** Up to `limit` ids of accounts matching `where` after `after`, in id order (keyset pages). */
  async idsAfter(where: string, params: unknown[], after: string, limit: number): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      this.db,
      `SELECT ca.id FROM course_accounts ca WHERE ${where} AND ca.id > $${params.length + 1} ORDER BY ca.id LIMIT ${limit}`,
      [...params, after],
    );
    return rows.map((r) => r.id);
  }
}
