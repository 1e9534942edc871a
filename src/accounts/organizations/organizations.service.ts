import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { isUniqueViolation } from '../../common/errors/database-errors';
import { TransactionRunner } from '../../database/transaction';
import { assertCanRead, assertCanWrite, visibleOrganizationIds } from '../access';
import { AccountsError } from '../accounts.errors';
import { AuditService } from '../audit/audit.service';
import { CreateOrganizationDto, OrganizationQuery, UpdateOrganizationDto } from './organization.dto';
import { Organization } from './organization.entity';
import { pageWindow } from '../../common/pagination/pagination';

@Injectable()
export class OrganizationsService {
  constructor(
    @InjectRepository(Organization) private readonly orgs: Repository<Organization>,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
  ) {}

  async list(who: Principal, q: OrganizationQuery): Promise<[Organization[], number]> {
    const { offset, pageSize } = pageWindow(q);
    const qb = this.orgs.createQueryBuilder('o').orderBy('o.key', 'ASC').addOrderBy('o.id', 'ASC').skip(offset).take(pageSize);
    const visible = visibleOrganizationIds(who);
    if (visible !== 'all') qb.andWhere(visible.length ? 'o.id IN (:...visible)' : '1=0', { visible });
    if (q.search) qb.andWhere('(o.key ILIKE :s OR o.name ILIKE :s)', { s: `%${q.search.replace(/[%_\\]/g, '\\$&')}%` });
    return qb.getManyAndCount();
  }

  async get(who: Principal, id: string): Promise<Organization> {
    const org = await this.orgs.findOneBy({ id });
    assertCanRead(who, org?.id ?? null, 'Organization');
    return org!;
  }

  async create(who: Principal, dto: CreateOrganizationDto): Promise<Organization> {
    if (!who.isStaff) throw new AccountsError('forbidden', 'Only staff may create organizations.');
    try {
      return await this.tx.run(async (tx) => {
        const org = await tx.save(Organization, tx.create(Organization, dto));
        await this.audit.record({ action: 'organization.created', actor: who, subjectType: 'Organization', subjectId: org.id, organizationId: org.id, data: { key: org.key } }, tx);
        return org;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new AccountsError('duplicate_key', `An organization with key "${dto.key}" exists.`, { key: dto.key });
      throw e;
    }
  }

  async update(who: Principal, id: string, dto: UpdateOrganizationDto): Promise<Organization> {
    const org = await this.orgs.findOneBy({ id });
    assertCanWrite(who, org?.id ?? null, 'Organization');
    try {
      return await this.tx.run(async (tx) => {
        const saved = await tx.save(Organization, { ...org!, ...dto });
        await this.audit.record({ action: 'organization.updated', actor: who, subjectType: 'Organization', subjectId: id, organizationId: id, data: { ...dto } }, tx);
        return saved;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new AccountsError('duplicate_key', `An organization with key "${dto.key}" exists.`, { key: dto.key });
      throw e;
    }
  }

  async remove(who: Principal, id: string): Promise<void> {
    const org = await this.orgs.findOneBy({ id });
    assertCanWrite(who, org?.id ?? null, 'Organization');
    await this.tx.run(async (tx) => {
      const [{ count }] = await tx.query(
        `SELECT (SELECT count(*) FROM projects WHERE organization_id = $1 AND deleted_at IS NULL)
              + (SELECT count(*) FROM service_accounts WHERE organization_id = $1) AS count`,
        [id],
      );
      if (Number(count) > 0) {
        throw new AccountsError('organization_not_empty', 'Delete its projects and service accounts first.', { id });
      }
      await tx.delete(Organization, { id });
      await this.audit.record({ action: 'organization.deleted', actor: who, subjectType: 'Organization', subjectId: id, organizationId: null, data: { key: org!.key } }, tx);
    });
  }
}
