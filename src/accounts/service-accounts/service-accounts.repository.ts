import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ServiceAccount } from './service-account.entity';

/** Reads of `ServiceAccount` rows that a change starts from. */
@Injectable()
export class ServiceAccountsRepository {
  /**
   * A service account read in `tx` and locked (FOR UPDATE) until it ends, for a change: the change applies
   * to the row as it is now, so one deleted or changed by a request that committed meanwhile is not
   * written back from what was read before. Pass it to `requireAccess` first.
   */
  lockForUpdate(tx: EntityManager, id: string): Promise<ServiceAccount | null> {
    return tx.findOne(ServiceAccount, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }
}
