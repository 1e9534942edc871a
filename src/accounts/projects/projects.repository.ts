import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull } from 'typeorm';
import { Project } from './project.entity';

/** Reads of `Project` rows that a change starts from. */
@Injectable()
export class ProjectsRepository {
  /**
   * A live (not deleted) project read in `tx` and locked (FOR UPDATE) until it ends, for a change: the change applies
   * to the row as it is now, so one deleted or changed by a request that committed meanwhile is not
   * written back from what was read before. Pass it to `requireAccess` first.
   */
  lockForUpdate(tx: EntityManager, id: string): Promise<Project | null> {
    return tx.findOne(Project, { where: { id, deletedAt: IsNull() }, lock: { mode: 'pessimistic_write' } });
  }
}
