import type { Action } from '../../permissions/subjects';
import { Injectable } from '@nestjs/common';
import { requireAccess, requireCreateIn } from '../../permissions/access';
import { containsPattern } from '../../common/sql/contains-pattern';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, IsNull, Repository } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { isUniqueViolation } from '../../common/errors/database-errors';
import { Listed, pageOf } from '../../common/pagination/pagination';
import { TransactionRunner } from '../../database/transaction';
import type { AppAbility } from '../../permissions/ability';
import { scopeList } from '../../permissions/user-has-perm';
import { ProjectsRepository } from './projects.repository';
import { ProjectMembersRepository, ProjectMemberRow } from './project-members.repository';
import type { ProjectMemberQuery } from './project-member.dto';
import { abilityToSql } from '../../permissions/ability-to-sql';
import { GroupsService } from '../../permissions/groups/groups.service';
import { AccountsError } from '../accounts.errors';
import { AuditService } from '../audit/audit.service';
import { Organization } from '../organizations/organization.entity';
import { CreateProjectDto, ProjectQuery, UpdateProjectDto } from './project.dto';
import { Project } from './project.entity';
import { PROJECT_DELETED, ProjectDeletedEvent } from './project.events';
import type { ProjectKind, ProjectSummary } from './project.types';
import { CommonError } from '../../common/errors/common.errors';
import { EventOutbox } from '../../events/event-outbox';
import type { NewEvent } from '../../events/event-types';

/** What events say of a project. */
function projectEvent(
  type: 'project.created' | 'project.updated' | 'project.deleted',
  p: Pick<Project, 'id' | 'organizationId' | 'key' | 'name' | 'kind' | 'startDate' | 'endDate'>,
  extra = {},
): NewEvent {
  return {
    type,
    organizationId: p.organizationId,
    subjectType: 'Project',
    subjectId: p.id,
    payload: {
      id: p.id,
      organization: p.organizationId,
      key: p.key,
      name: p.name,
      kind: p.kind,
      start_date: p.startDate,
      end_date: p.endDate,
      ...extra,
    },
  };
}

const SUMMARY_COLUMNS = [
  'id',
  'organizationId',
  'key',
  'name',
  'kind',
  'startDate',
  'endDate',
  'deletedAt',
] as const satisfies readonly (keyof ProjectSummary)[];

function summary(p: Project): ProjectSummary {
  return {
    id: p.id,
    organizationId: p.organizationId,
    key: p.key,
    name: p.name,
    kind: p.kind,
    startDate: p.startDate,
    endDate: p.endDate,
    deletedAt: p.deletedAt,
  };
}

function checkDates(kind: ProjectKind, start: string | null, end: string | null): void {
  if (kind === 'course' && !end) throw new AccountsError('end_date_required', 'A course project needs an end_date.');
  if (start && end && end < start)
    throw new AccountsError('invalid_dates', 'end_date must not be before start_date.', {
      start_date: start,
      end_date: end,
    });
}

@Injectable()
export class ProjectsService {
  constructor(
    @InjectRepository(Project) private readonly projects: Repository<Project>,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly events: EventEmitter2,
    private readonly groups: GroupsService,
    private readonly rows: ProjectsRepository,
    private readonly roster: ProjectMembersRepository,
    private readonly outbox: EventOutbox,
  ) {}

  async list(ability: AppAbility, q: ProjectQuery): Promise<[Project[], number]> {
    const qb = this.projects
      .createQueryBuilder('p')
      .where('p.deleted_at IS NULL')
      .orderBy('p.created_at', 'ASC')
      .addOrderBy('p.id', 'ASC');
    scopeList(qb, ability, q.user_has_perm, 'Project', 'p');
    if (q.organization) qb.andWhere('p.organization_id = :org', { org: q.organization });
    if (q.kind) qb.andWhere('p.kind = :kind', { kind: q.kind });
    if (q.search) qb.andWhere('(p.key ILIKE :s OR p.name ILIKE :s)', { s: containsPattern(q.search) });
    return pageOf(qb, q);
  }

  /**
   * A project's summary, deleted or not, with no access check: the caller checks its ability and
   * the project's kind, dates and deletion itself. Reads in `tx` when given.
   */
  async findSummary(id: string, tx?: EntityManager): Promise<ProjectSummary | null> {
    const [found] = await this.findSummaries([id], tx);
    return found ?? null;
  }

  /** Several projects as findSummary reads one, in one query; unknown ids are left out. */
  async findSummaries(ids: readonly string[], tx?: EntityManager): Promise<ProjectSummary[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const rows = await (tx ?? this.projects.manager).find(Project, {
      select: [...SUMMARY_COLUMNS],
      where: { id: In(unique) },
    });
    return rows.map(summary);
  }

  /**
   * As findSummary, read in `tx` and locked (FOR SHARE) until it ends: a deletion of the project
   * waits for the caller's transaction, so what it creates there is seen by the deletion.
   */
  async lockForShare(id: string, tx: EntityManager): Promise<ProjectSummary | null> {
    const found = await tx.findOne(Project, {
      select: [...SUMMARY_COLUMNS],
      where: { id },
      lock: { mode: 'pessimistic_read' },
    });
    return found ? summary(found) : null;
  }

  /**
   * SQL for a query of another module that must stay one statement: the project column `column`
   * of the project whose id is the SQL expression `projectId` (a correlated subquery). The
   * `projects` table is named only here, in the module that owns it.
   */
  columnSql(column: 'start_date' | 'end_date', projectId: string): string {
    return `(SELECT p.${column} FROM projects p WHERE p.id = ${projectId})`;
  }

  /** SQL, as columnSql: true when the project `projectId` is deleted or its end date has passed at `at` (a parameter). */
  closedAtSql(projectId: string, at: string): string {
    return `EXISTS (SELECT 1 FROM projects p WHERE p.id = ${projectId}
              AND (p.deleted_at IS NOT NULL OR ((p.end_date + 1)::timestamp AT TIME ZONE 'UTC') <= ${at}))`;
  }

  /**
   * Inserts a project with no access check, in `tx`, audited as `project.created` by `actor`: for
   * projects made on someone's behalf by the system (an LMS course's first launch). A course needs
   * an end date, as through the API. A taken key is 409 `duplicate_key`.
   */
  async insert(
    data: {
      organizationId: string;
      key: string;
      name: string;
      kind: ProjectKind;
      startDate?: string;
      endDate?: string;
    },
    actor: Principal | { type: 'system' },
    tx: EntityManager,
    auditData: Record<string, unknown> = {},
  ): Promise<ProjectSummary> {
    checkDates(data.kind, data.startDate ?? null, data.endDate ?? null);
    const inserted: { id: string }[] = (
      await tx
        .createQueryBuilder()
        .insert()
        .into(Project)
        .values({
          organizationId: data.organizationId,
          key: data.key,
          name: data.name,
          kind: data.kind,
          startDate: data.startDate ?? null,
          endDate: data.endDate ?? null,
        })
        .orIgnore()
        .returning(['id'])
        .execute()
    ).raw;
    const row = inserted[0];
    if (!row?.id)
      throw new AccountsError('duplicate_key', `A project with key "${data.key}" exists in this organization.`, {
        key: data.key,
      });
    const project = await tx.findOneByOrFail(Project, { id: row.id });
    await this.audit.record(
      {
        action: 'project.created',
        actor,
        subjectType: 'Project',
        subjectId: project.id,
        organizationId: project.organizationId,
        data: { key: project.key, kind: project.kind, ...auditData },
      },
      tx,
    );
    await this.outbox.append(tx, [projectEvent('project.created', project)]);
    return summary(project);
  }

  /** Renames a project with no access check, in `tx`, audited as `project.updated` by `actor` (an LMS course renamed). */
  async rename(
    id: string,
    name: string,
    actor: Principal | { type: 'system' },
    tx: EntityManager,
    auditData: Record<string, unknown> = {},
  ): Promise<void> {
    const r = await tx.update(Project, { id }, { name });
    if (!r.affected) return;
    const [p] = await this.findSummaries([id], tx);
    await this.audit.record(
      {
        action: 'project.updated',
        actor,
        subjectType: 'Project',
        subjectId: id,
        organizationId: p?.organizationId ?? null,
        data: { name, ...auditData },
      },
      tx,
    );
    if (p) await this.outbox.append(tx, [projectEvent('project.updated', p, { changes: ['name'] })]);
  }

  /** A live (not deleted) project the caller can see, else 404. */
  async get(ability: AppAbility, id: string, action: Action = 'read'): Promise<Project> {
    return requireAccess(ability, action, 'Project', await this.projects.findOneBy({ id, deletedAt: IsNull() }));
  }

  /**
   * The project's roster: every live member of its groups, with its roles and its name (a user's
   * username and names, a service account's name). 404 for a project the caller cannot see, 403
   * unless it may `read_members` it. A user's e-mail is shown where the caller may read the user, as
   * `GET /users/{id}` would.
   */
  async members(ability: AppAbility, id: string, q: ProjectMemberQuery): Promise<Listed<ProjectMemberRow>> {
    const project = await this.get(ability, id, 'read_members');
    return this.roster.page(
      this.groups.scopeMembershipsSql('project', ':projectId'),
      project.id,
      abilityToSql(ability, 'read', 'User', 'u'),
      q,
    );
  }

  async create(who: Principal, ability: AppAbility, dto: CreateProjectDto): Promise<Project> {
    const org = await this.projects.manager.findOneBy(Organization, { id: dto.organization });
    requireCreateIn(ability, 'Project', dto.organization, Boolean(org));
    const kind = dto.kind ?? 'default';
    checkDates(kind, dto.start_date ?? null, dto.end_date ?? null);
    try {
      return await this.tx.run(async (tx) => {
        const p = await tx.save(
          Project,
          tx.create(Project, {
            organizationId: org!.id,
            key: dto.key,
            name: dto.name,
            kind,
            startDate: dto.start_date ?? null,
            endDate: dto.end_date ?? null,
          }),
        );
        await this.audit.record(
          {
            action: 'project.created',
            actor: who,
            subjectType: 'Project',
            subjectId: p.id,
            organizationId: p.organizationId,
            data: { key: p.key, kind },
          },
          tx,
        );
        await this.outbox.append(tx, [projectEvent('project.created', p)]);
        return p;
      });
    } catch (e) {
      if (isUniqueViolation(e))
        throw new AccountsError('duplicate_key', `A project with key "${dto.key}" exists in this organization.`, {
          key: dto.key,
        });
      throw e;
    }
  }

  async update(who: Principal, ability: AppAbility, id: string, dto: UpdateProjectDto): Promise<Project> {
    return this.tx.run(async (tx) => {
      const p = requireAccess(ability, 'update', 'Project', await this.rows.lockForUpdate(tx, id));
      const next = {
        ...p,
        name: dto.name ?? p.name,
        kind: dto.kind ?? p.kind,
        startDate: dto.start_date !== undefined ? dto.start_date : p.startDate,
        endDate: dto.end_date !== undefined ? dto.end_date : p.endDate,
      };
      checkDates(next.kind, next.startDate, next.endDate);
      const saved = await tx.save(Project, next);
      await this.audit.record(
        {
          action: 'project.updated',
          actor: who,
          subjectType: 'Project',
          subjectId: id,
          organizationId: p.organizationId,
          data: { ...dto },
        },
        tx,
      );
      await this.outbox.append(tx, [projectEvent('project.updated', saved, { changes: Object.keys(dto) })]);
      return saved;
    });
  }

  /** Soft delete; `project.deleted` is emitted after the commit. */
  async remove(who: Principal, ability: AppAbility, id: string): Promise<void> {
    const p = await this.get(ability, id, 'delete');
    const moved = await this.tx.run(async (tx) => {
      const r = await tx
        .createQueryBuilder()
        .update(Project)
        .set({ deletedAt: () => 'now()' })
        .where('id = :id AND deleted_at IS NULL', { id })
        .execute();
      if (r.affected) {
        await this.audit.record(
          {
            action: 'project.deleted',
            actor: who,
            subjectType: 'Project',
            subjectId: id,
            organizationId: p.organizationId,
          },
          tx,
        );
        await this.outbox.append(tx, [projectEvent('project.deleted', p)]);
        // Its groups go with it, so no membership keeps rights on a deleted project.
        await this.groups.removeScopeGroups(who, 'project', id, tx);
      }
      return r.affected ?? 0;
    });
    if (!moved) throw new CommonError('not_found', 'Project not found.');
    const event: ProjectDeletedEvent = {
      projectId: id,
      organizationId: p.organizationId,
      actor: { type: who.type, id: who.id },
    };
    await this.events.emitAsync(PROJECT_DELETED, event);
  }
}
