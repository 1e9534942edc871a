import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import type { ArtifactStorageKind } from './job-artifact.entity';
import { errorText } from './jobs.runner';
import { queryRows } from './jobs.sql';
import { ArtifactStore } from './storage/artifact-store';

const BATCH = 500;

/**
 * Purges jobs finished (or, if never finished, created) more than JOB_RETENTION_DAYS ago, with their
 * artifacts. Stored objects go first, then the rows, in batches: a job whose objects could not be
 * removed (the store is down) keeps its row and is purged by a later run, so nothing is left in
 * storage with no row to find it by. For a job that ever ran, every configured storage is cleared
 * of its whole folder or prefix, whatever its artifact rows say: a killed run leaves temporary files
 * and unfinished uploads that no row names.
 */
@Injectable()
export class JobsRetention {
  private readonly logger = new Logger('Jobs');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
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

  /** Purges every job that is not running and finished (or was created) before `cutoff`. */
  async purgeBefore(cutoff: Date): Promise<number> {
    let total = 0;
    // Walks the candidates in (created_at, id) order, so jobs left for a later run are not read again.
    let after: { createdAt: Date; id: string } | undefined;
    for (;;) {
      const { seen, purged, last } = await this.db.transaction(async (tx) => {
        const doomed = await queryRows<{ id: string; created_at: Date; ran: boolean }>(
          tx,
          `SELECT id, created_at, lease > 0 AS ran FROM jobs
            WHERE state <> 'In Progress' AND COALESCE(finished_at, created_at) < $1
              AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
            ORDER BY created_at, id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
          [cutoff, after?.createdAt ?? null, after?.id ?? null],
        );
        if (doomed.length === 0) return { seen: 0, purged: 0, last: undefined };
        const stored = await queryRows<{ job_id: string; storage: ArtifactStorageKind }>(
          tx,
          `SELECT DISTINCT job_id, storage FROM job_artifacts WHERE job_id = ANY($1::uuid[]) AND storage IS NOT NULL`,
          [doomed.map((d) => d.id)],
        );
        const cleared: string[] = [];
        for (const job of doomed) {
          const kinds = new Set(stored.filter((a) => a.job_id === job.id).map((a) => a.storage));
          if (job.ran) for (const kind of this.store.kinds) kinds.add(kind);
          try {
            await this.store.deleteJob(job.id, kinds);
            cleared.push(job.id);
          } catch (e) {
            this.logger.warn(`Could not delete the artifacts of job ${job.id}; its row stays for the next purge: ${errorText(e)}`);
          }
        }
        if (cleared.length > 0) {
          // Their artifact rows go with them (ON DELETE CASCADE).
          await tx.query(`DELETE FROM jobs WHERE id = ANY($1::uuid[])`, [cleared]);
        }
        const end = doomed[doomed.length - 1];
        return { seen: doomed.length, purged: cleared.length, last: { createdAt: end.created_at, id: end.id } };
      });
      total += purged;
      after = last;
      if (seen < BATCH) return total;
    }
  }
}
