import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { User } from './user.entity';

/** Reads of `User` rows that a change starts from. */
@Injectable()
export class UsersRepository {
  /**
   * A user read in `tx` and locked (FOR UPDATE) until it ends, for a change: the change applies
   * to the row as it is now, so one deleted or changed by a request that committed meanwhile is not
   * written back from what was read before. Pass it to `requireAccess` first.
   */
  lockForUpdate(tx: EntityManager, id: string): Promise<User | null> {
    return tx.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }
}
