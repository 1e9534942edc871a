import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { pageOf } from '../../common/pagination/pagination';
import type { AppAbility } from '../../permissions/ability';
import { scopeList } from '../../permissions/user-has-perm';
import { LtiPlatform } from './lti-platform.entity';
import type { LtiPlatformQuery } from './lti-platform.dto';

/** The `lti_platforms` table. Deleted platforms (`deleted_at` set) are invisible to every read but `findAnyById`. */
@Injectable()
export class LtiPlatformsRepository {
  constructor(@InjectRepository(LtiPlatform) private readonly platforms: Repository<LtiPlatform>) {}

  /** A page of the live platforms the ability may read (and `user_has_perm` names), scoped in SQL. */
  list(ability: AppAbility, q: LtiPlatformQuery): Promise<[LtiPlatform[], number]> {
    const qb = this.platforms
      .createQueryBuilder('p')
      .where('p.deleted_at IS NULL')
      .orderBy('p.created_at', 'ASC')
      .addOrderBy('p.id', 'ASC');
    scopeList(qb, ability, q.user_has_perm, 'LtiPlatform', 'p');
    if (q.organization) qb.andWhere('p.organization_id = :org', { org: q.organization });
    if (q.issuer) qb.andWhere('p.issuer = :issuer', { issuer: q.issuer });
    return pageOf(qb, q);
  }

  findLive(id: string, tx?: EntityManager): Promise<LtiPlatform | null> {
    return (tx ?? this.platforms.manager).findOneBy(LtiPlatform, { id, deletedAt: IsNull() });
  }

  /** Locked for a change (FOR UPDATE) in `tx`. */
  lockLive(id: string, tx: EntityManager): Promise<LtiPlatform | null> {
    return tx.findOne(LtiPlatform, { where: { id, deletedAt: IsNull() }, lock: { mode: 'pessimistic_write' } });
  }

  /** Deleted or not: a launch whose login began before a deletion must learn that it happened. */
  findAnyById(id: string): Promise<LtiPlatform | null> {
    return this.platforms.findOneBy({ id });
  }

  /** The issuer and OIDC login URL of every live platform (for the origins that may frame the tool). */
  async liveOrigins(): Promise<string[]> {
    const rows = await this.platforms.find({
      select: { issuer: true, authLoginUrl: true },
      where: { deletedAt: IsNull() },
      take: 10_000,
    });
    return rows.flatMap((r) => [r.issuer, r.authLoginUrl]);
  }

  /** The live, approved platforms of an issuer (one per client id). */
  findByIssuer(issuer: string): Promise<LtiPlatform[]> {
    return this.platforms.find({
      where: { issuer, deletedAt: IsNull(), approved: true },
      order: { createdAt: 'ASC' },
      take: 100,
    });
  }

  insert(values: Partial<LtiPlatform>, tx: EntityManager): Promise<LtiPlatform> {
    return tx.save(LtiPlatform, tx.create(LtiPlatform, values));
  }

  save(platform: LtiPlatform, tx: EntityManager): Promise<LtiPlatform> {
    return tx.save(LtiPlatform, platform);
  }

  async softDelete(id: string, tx: EntityManager): Promise<void> {
    await tx.update(LtiPlatform, { id, deletedAt: IsNull() }, { deletedAt: () => 'now()' });
  }
}
