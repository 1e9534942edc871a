import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { isUniqueViolation } from '../../common/errors/database-errors';
import { pageWindow } from '../../common/pagination/pagination';
import { queryRows } from '../../database/query';
import type { AppAbility } from '../../permissions/ability';
import { scopeToAbility } from '../../permissions/ability-to-sql';
import { scopeToUserHasPerm } from '../../permissions/user-has-perm';
import type { LtiConsumerQuery } from './lti-consumer.dto';
import { LtiConsumer } from './lti-consumer.entity';

/** The `lti_consumers` table. Deleted consumers (`deleted_at` set) are invisible to every read. */
@Injectable()
export class LtiConsumersRepository {
  constructor(@InjectRepository(LtiConsumer) private readonly consumers: Repository<LtiConsumer>) {}

  /** A page of the live consumers the ability may read, scoped in SQL. */
  list(ability: AppAbility, q: LtiConsumerQuery): Promise<[LtiConsumer[], number]> {
    const { offset, pageSize } = pageWindow(q);
    const qb = this.consumers
      .createQueryBuilder('c')
      .where('c.deleted_at IS NULL')
      .orderBy('c.created_at', 'ASC')
      .addOrderBy('c.id', 'ASC')
      .offset(offset)
      .limit(pageSize);
    scopeToAbility(qb, ability, 'read', 'LtiConsumer', 'c');
    scopeToUserHasPerm(qb, ability, q.user_has_perm, 'LtiConsumer', 'c');
    if (q.organization) qb.andWhere('c.organization_id = :org', { org: q.organization });
    return qb.getManyAndCount();
  }

  findLive(id: string, tx?: EntityManager): Promise<LtiConsumer | null> {
    return (tx ?? this.consumers.manager).findOneBy(LtiConsumer, { id, deletedAt: IsNull() });
  }

  lockLive(id: string, tx: EntityManager): Promise<LtiConsumer | null> {
    return tx.findOne(LtiConsumer, { where: { id, deletedAt: IsNull() }, lock: { mode: 'pessimistic_write' } });
  }

  /**
   * The consumer a launch names (edX's get_or_supplement): by `tool_consumer_instance_guid` when the
   * launch carries one a consumer holds, else by key. The caller checks the key matches.
   */
  async findForLaunch(consumerKey: string, instanceGuid: string | undefined): Promise<LtiConsumer | null> {
    if (instanceGuid) {
      const byGuid = await this.consumers.findOneBy({ instanceGuid, deletedAt: IsNull() });
      if (byGuid) return byGuid;
    }
    return this.consumers.findOneBy({ consumerKey, deletedAt: IsNull() });
  }

  /** Records the guid a launch first carried, unless the consumer has one (or another consumer holds it). */
  async supplementGuid(id: string, instanceGuid: string): Promise<boolean> {
    try {
      const rows = await queryRows(
        this.consumers.manager,
        `UPDATE lti_consumers SET instance_guid = $2, updated_at = now()
       WHERE id = $1 AND instance_guid IS NULL AND deleted_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM lti_consumers o WHERE o.instance_guid = $2 AND o.deleted_at IS NULL)
       RETURNING id`,
        [id, instanceGuid],
      );
      return rows.length > 0;
    } catch (e) {
      // Two consumers' first launches with the same guid at once: the other one has it.
      if (isUniqueViolation(e)) return false;
      throw e;
    }
  }

  insert(values: Partial<LtiConsumer>, tx: EntityManager): Promise<LtiConsumer> {
    return tx.save(LtiConsumer, tx.create(LtiConsumer, values));
  }

  save(consumer: LtiConsumer, tx: EntityManager): Promise<LtiConsumer> {
    return tx.save(LtiConsumer, consumer);
  }

  async softDelete(id: string, tx: EntityManager): Promise<void> {
    await tx.update(LtiConsumer, { id, deletedAt: IsNull() }, { deletedAt: () => 'now()' });
  }
}
