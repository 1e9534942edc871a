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
 * artifacts. Rows go first, in batches; stored objects are removed after each batch commits.
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
    for (;;) {
      const { ids, stored } = await this.db.transaction(async (tx) => {
        const doomed = await queryRows<{ id: string }>(
          tx,
          `SELECT id FROM jobs WHERE state <> 'In Progress' AND COALESCE(finished_at, created_at) < $1
            ORDER BY created_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
          [cutoff],
        );
        const jobIds = doomed.map((r) => r.id);
        if (jobIds.length === 0) return { ids: jobIds, stored: [] };
        const artifacts = await queryRows<{ job_id: string; storage: ArtifactStorageKind }>(
          tx,
          `DELETE FROM job_artifacts WHERE job_id = ANY($1::uuid[]) AND storage IS NOT NULL RETURNING job_id, storage`,
          [jobIds],
        );
        await tx.query(`DELETE FROM jobs WHERE id = ANY($1::uuid[])`, [jobIds]);
        return { ids: jobIds, stored: artifacts };
      });
      const kindsByJob = new Map<string, ArtifactStorageKind[]>();
      for (const a of stored) kindsByJob.set(a.job_id, [...(kindsByJob.get(a.job_id) ?? []), a.storage]);
      for (const [jobId, kinds] of kindsByJob) {
        await this.store.deleteJob(jobId, kinds).catch((e) => this.logger.warn(`Could not delete artifacts of job ${jobId}: ${errorText(e)}`));
      }
      total += ids.length;
      if (ids.length < BATCH) return total;
    }
  }
}
