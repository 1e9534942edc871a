import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { PrincipalType } from '../../common/auth/principal';
import { Listed, PageQuery, rawPageOf } from '../../common/pagination/pagination';
import type { SqlCondition } from '../../permissions/ability-to-sql';
import { ServiceAccount } from '../service-accounts/service-account.entity';
import { User } from '../users/user.entity';

/** One member of a project's roster, as the statement reads it. */
export interface ProjectMemberRow {
  principal_type: PrincipalType;
  principal_id: string;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  name: string | null;
  roles: { role: string; group: string; group_name: string; expires_at: string | null }[];
}

/** A project's roster: the members of its groups with the names of the users and service accounts. */
@Injectable()
export class ProjectMembersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * One page of the members, one row per principal with its roles, ordered by last name (or
   * username, or service account name), first name and id; one statement with a window count (rawPageOf).
   * `memberships` is the permissions module's subquery of the scope's live memberships, taking the
   * parameter `:projectId`; `emailVisible` is the condition (on alias `u`) under which a user's
   * e-mail is shown.
   */
  async page(
    memberships: string,
    projectId: string,
    emailVisible: SqlCondition,
    q: PageQuery & { role?: string },
  ): Promise<Listed<ProjectMemberRow>> {
    const grouped = `(SELECT m.principal_type, m.principal_id,
        json_agg(json_build_object('role', m.role, 'group', m.group_id, 'group_name', m.group_name, 'expires_at', m.expires_at)
                 ORDER BY m.role, m.group_name, m.group_id) AS roles
      FROM (${memberships}) m
      GROUP BY m.principal_type, m.principal_id
      ${q.role ? 'HAVING bool_or(m.role = :role)' : ''})`;
    const qb = this.dataSource
      .createQueryBuilder()
      .select('pm.principal_type', 'principal_type')
      .addSelect('pm.principal_id', 'principal_id')
      .addSelect('u.username', 'username')
      .addSelect('u.first_name', 'first_name')
      .addSelect('u.last_name', 'last_name')
      .addSelect(`CASE WHEN (${emailVisible.sql}) THEN u.email END`, 'email')
      .addSelect('sa.name', 'name')
      .addSelect('pm.roles', 'roles')
      .from(grouped, 'pm')
      .leftJoin(User, 'u', "pm.principal_type = 'user' AND u.id = pm.principal_id")
      .leftJoin(ServiceAccount, 'sa', "pm.principal_type = 'service_account' AND sa.id = pm.principal_id")
      .setParameters({ ...emailVisible.params, projectId, ...(q.role ? { role: q.role } : {}) })
      .orderBy("lower(COALESCE(NULLIF(u.last_name, ''), u.username, sa.name))", 'ASC')
      .addOrderBy("lower(COALESCE(u.first_name, ''))", 'ASC')
      .addOrderBy('pm.principal_id', 'ASC');
    return rawPageOf<ProjectMemberRow>(qb, q);
  }
}
