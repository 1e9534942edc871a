import { Injectable } from '@nestjs/common';
import { requireAccess } from '../../permissions/access';
import { containsPattern } from '../../common/sql/contains-pattern';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { isUniqueViolation } from '../../common/errors/database-errors';
import { TransactionRunner } from '../../database/transaction';
import type { AppAbility } from '../../permissions/ability';
import { asSubject } from '../../permissions/ability';
import { scopeList } from '../../permissions/user-has-perm';
import { OrganizationsRepository } from './organizations.repository';
import { AccountsError } from '../accounts.errors';
import { AuditService } from '../audit/audit.service';
import { CreateOrganizationDto, OrganizationQuery, UpdateOrganizationDto } from './organization.dto';
import { Organization } from './organization.entity';
import { pageOf } from '../../common/pagination/pagination';
import { CommonError } from '../../common/errors/common.errors';
import { queryRows } from '../../database/query';

export interface OrganizationSummary {
  id: string;
  key: string;
  name: string;
}

/** Keys and names change rarely; another replica's rename shows here after at most this long. */
const SUMMARY_TTL_MS = 30_000;

@Injectable()
export class OrganizationsService {
  private readonly summaryCache = new Map<string, { value: OrganizationSummary; expires: number }>();

  constructor(
    @InjectRepository(Organization) private readonly orgs: Repository<Organization>,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly rows: OrganizationsRepository,
  ) {}

  async list(ability: AppAbility, q: OrganizationQuery): Promise<[Organization[], number]> {
    const qb = this.orgs.createQueryBuilder('o').orderBy('o.key', 'ASC').addOrderBy('o.id', 'ASC');
    scopeList(qb, ability, q.user_has_perm, 'Organization', 'o');
    if (q.search) qb.andWhere('(o.key ILIKE :s OR o.name ILIKE :s)', { s: containsPattern(q.search) });
    return pageOf(qb, q);
  }

  /** Key and name of organizations by id (cached briefly: `/auth/me` asks on every call). */
  async summaries(ids: string[]): Promise<OrganizationSummary[]> {
    const now = Date.now();
    const missing = ids.filter((id) => (this.summaryCache.get(id)?.expires ?? 0) <= now);
    if (missing.length) {
      const rows: OrganizationSummary[] = await queryRows(
        this.orgs.manager,
        'SELECT id, key, name FROM organizations WHERE id = ANY($1)',
        [missing],
      );
      for (const row of rows) this.summaryCache.set(row.id, { value: row, expires: now + SUMMARY_TTL_MS });
      for (const id of missing) if (!rows.some((r) => r.id === id)) this.summaryCache.delete(id);
    }
    return ids.flatMap((id) => {
      const hit = this.summaryCache.get(id);
      return hit ? [hit.value] : [];
    });
  }

  /** The organization with this key (keys are unique), without an access check; null when there is none. */
  async findByKey(key: string): Promise<OrganizationSummary | null> {
    const found = await this.orgs.findOne({ select: ['id', 'key', 'name'], where: { key } });
    return found ? { id: found.id, key: found.key, name: found.name } : null;
  }

  async get(ability: AppAbility, id: string): Promise<Organization> {
    return requireAccess(ability, 'read', 'Organization', await this.orgs.findOneBy({ id }));
  }

  async create(who: Principal, ability: AppAbility, dto: CreateOrganizationDto): Promise<Organization> {
    if (!ability.can('create', asSubject('Organization', {})))
      throw new CommonError('forbidden', 'You may not create organizations.');
    try {
      return await this.tx.run(async (tx) => {
        const org = await tx.save(Organization, tx.create(Organization, dto));
        await this.audit.record(
          {
            action: 'organization.created',
            actor: who,
            subjectType: 'Organization',
            subjectId: org.id,
            organizationId: org.id,
            data: { key: org.key },
          },
          tx,
        );
        return org;
      });
    } catch (e) {
      if (isUniqueViolation(e))
        throw new AccountsError('duplicate_key', `An organization with key "${dto.key}" exists.`, { key: dto.key });
      throw e;
    }
  }

  async update(who: Principal, ability: AppAbility, id: string, dto: UpdateOrganizationDto): Promise<Organization> {
    try {
      return await this.tx.run(async (tx) => {
        const org = requireAccess(ability, 'update', 'Organization', await this.rows.lockForUpdate(tx, id));
        // null leaves a field as it is, as in the other PATCH routes; the columns are NOT NULL.
        const saved = await tx.save(Organization, { ...org, key: dto.key ?? org.key, name: dto.name ?? org.name });
        this.summaryCache.delete(id);
        await this.audit.record(
          {
            action: 'organization.updated',
            actor: who,
            subjectType: 'Organization',
            subjectId: id,
            organizationId: id,
            data: { ...dto },
          },
          tx,
        );
        return saved;
      });
    } catch (e) {
      if (isUniqueViolation(e))
        throw new AccountsError('duplicate_key', `An organization with key "${dto.key}" exists.`, { key: dto.key });
      throw e;
    }
  }

  async remove(who: Principal, ability: AppAbility, id: string): Promise<void> {
    await this.tx.run(async (tx) => {
      // Locked first, so of concurrent deletes one deletes (and is audited) and the others find it gone,
      // and a project or service account being added meanwhile is either counted or refused.
      const org = requireAccess(ability, 'delete', 'Organization', await this.rows.lockForUpdate(tx, id));
      const [{ count }] = await queryRows<{ count: string }>(
        tx,
        `SELECT (SELECT count(*) FROM projects WHERE organization_id = $1)
              + (SELECT count(*) FROM service_accounts WHERE organization_id = $1) AS count`,
        [id],
      );
      if (Number(count) > 0) {
        throw new AccountsError(
          'organization_not_empty',
          'The organization still has projects (deleted ones are kept for their history) or service accounts.',
          { id },
        );
      }
      await tx.delete(Organization, { id });
      this.summaryCache.delete(id);
      await this.audit.record(
        {
          action: 'organization.deleted',
          actor: who,
          subjectType: 'Organization',
          subjectId: id,
          organizationId: null,
          data: { key: org.key },
        },
        tx,
      );
    });
  }
}
