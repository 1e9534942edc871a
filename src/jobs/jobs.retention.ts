import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { errorText } from './jobs.runner';
import { JobsRepository } from './jobs.repository';
import { ArtifactStore } from './storage/artifact-store';

const BATCH = 500;

/**
 * Purges jobs finished (or, if never finished, created) more than JOB_RETENTION_DAYS ago, with their
 * artifacts. Stored objects go first, then the rows, in batches: a job whose objects could not be
 * removed (the store is down) keeps its row and is purged by a later run, so nothing is left in
 * storage with no row to find it by. For a job that ever ran, every configured storage is cleared
 * of its whole folder or prefix, whatever its artifact rows say: a killed run leaves temporary files
 * and unfinished uploads that no row names. Every process runs the purge; clearing a prefix twice is
 * harmless.
 */
@Injectable()
export class JobsRetention {
  private readonly logger = new Logger('Jobs');

  constructor(
    private readonly jobs: JobsRepository,
    private readonly store: ArtifactStore,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'jobs-retention' })
  async purgeOnSchedule(): Promise<void> {
    try {
      const purged = await this.purgeExpired();
      if (purged > 0) this.logger.log(`Purged ${purged} jobs older than ${this.settings.JOB_RETENTION_DAYS} days`);
    } catch (e) {
      this.logger.warn(`Job retention purge failed: ${errorText(e)}`);
    }
  }

  /** Purges jobs past the retention; returns how many. */
  purgeExpired(now = new Date()): Promise<number> {
    return this.purgeBefore(new Date(now.getTime() - this.settings.JOB_RETENTION_DAYS * 86_400_000));
  }

  /**
   * Purges every job that is not running and finished (or was created) before `cutoff`. Candidates are
   * read a batch at a time with no transaction held open while storage answers; a job's row goes only
   * once its objects are gone, and only if it is still past the cutoff and not running.
   */
  async purgeBefore(cutoff: Date): Promise<number> {
    let total = 0;
    // The (created_at, id) of the last candidate, created_at as text so no microsecond is lost: rows a
    // purge could not clear are not read again in the same purge.
    let after: { createdAt: string; id: string } | undefined;
    for (;;) {
      const doomed = await this.jobs.purgeCandidates(cutoff, after, BATCH);
      if (doomed.length === 0) return total;
      const cleared: string[] = [];
      for (const job of doomed) {
        try {
          // A job that never ran wrote nothing; one that ran may have left objects no row names.
          if (job.ran) await this.store.deleteJob(job.id);
          cleared.push(job.id);
        } catch (e) {
          this.logger.warn(
            `Could not delete the artifacts of job ${job.id}; its row stays for the next purge: ${errorText(e)}`,
          );
        }
      }
      if (cleared.length > 0) {
        // Their artifact rows go with them (ON DELETE CASCADE).
        total += await this.jobs.purge(cleared, cutoff);
      }
      const end = doomed[doomed.length - 1];
      after = { createdAt: end.created_at, id: end.id };
      if (doomed.length < BATCH) return total;
    }
  }
}
