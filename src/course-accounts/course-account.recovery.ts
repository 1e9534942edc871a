import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { JobsService } from '../jobs/jobs.service';
import { CourseAccountStateMachine } from './course-account.state-machine';
import { CREATE_COURSE_ACCOUNTS_JOB, RETRY_COURSE_ACCOUNTS_JOB } from './jobs/course-account.jobs';

/** Why an account whose creation stopped is ERRED. */
export const STALLED_CREATION =
  'The creation stopped before it finished: no request or job was working on the account any more.';

/**
 * Finds PENDING accounts whose creation is provably not running: unchanged for
 * COURSE_ACCOUNTS_PENDING_TIMEOUT_MS (longer than any request creating one may take) and listed by
 * no creation or retry job that may still run. The scheduler hands them to a new job; a user may
 * retry or close one.
 */
@Injectable()
export class CourseAccountRecovery {
  constructor(
    private readonly jobs: JobsService,
    private readonly machine: CourseAccountStateMachine,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /**
   * Claims stalled accounts in `tx` (of `ids` when given, else the longest-stalled up to `limit`):
   * they stay locked until it ends, and their `updated_at` is set, so no other claim takes them for
   * another timeout. Accounts a live job holds are marked checked too, but not returned.
   */
  async claimStalled(tx: EntityManager, { ids, limit }: { ids?: string[]; limit: number }): Promise<string[]> {
    const all = await this.machine.takeStuckPending(tx, this.settings.COURSE_ACCOUNTS_PENDING_TIMEOUT_MS, {
      ids,
      limit,
    });
    if (all.length === 0) return [];
    const held = await this.jobs.listedInLiveJobs(
      [CREATE_COURSE_ACCOUNTS_JOB, RETRY_COURSE_ACCOUNTS_JOB],
      'accountIds',
      all,
      tx,
    );
    return all.filter((id) => !held.has(id));
  }
}
