import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Principal } from '../../../common/auth/principal';
import { InjectSettings } from '../../../config/settings.module';
import { Settings } from '../../../config/settings.schema';
import { queryRows } from '../../../database/query';
import { TransactionRunner } from '../../../database/transaction';
import { JobsService } from '../../../jobs/jobs.service';
import type { AppAbility } from '../../../permissions/ability';
import { requireAccess } from '../../../permissions/access';
import { LtiError } from '../../lti.errors';
import { ROSTER_SYNC_JOB, SCHEDULED_ROSTER_SYNC_JOB } from '../lti-services.jobs';
import { LtiRosterRepository } from './lti-roster.repository';

/** Owner of the roster syncs the schedule starts. */
const SYSTEM_OWNER = { type: 'user' as const, id: '00000000-0000-0000-0000-000000000000' };
/** How often each process looks for courses whose roster is due. */
const TICK_MS = 60_000;
const PER_TICK = 100;

/**
 * Starts roster syncs: on demand (a project manager or organization admin), and every
 * LTI_ROSTER_SYNC_INTERVAL_MS for each course with a roster service (an advisory lock keeps
 * replicas from starting the same round twice; a course synced less than an interval ago waits).
 */
@Injectable()
export class RosterSyncService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('LTI');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repo: LtiRosterRepository,
    private readonly jobs: JobsService,
    private readonly transactions: TransactionRunner,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.settings.LTI_ROSTER_SYNC_INTERVAL_MS;
    if (every <= 0) return;
    this.timer = setInterval(
      () => void this.startDue().catch((e: Error) => this.logger.warn(`Roster schedule failed: ${e.message}`)),
      Math.min(every, TICK_MS),
    );
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async start(who: Principal, ability: AppAbility, contextRef: string, filter: { role?: string; rlid?: string }) {
    const context = await this.repo.findContext(contextRef);
    requireAccess(
      ability,
      'update',
      'LtiContext',
      context?.platformLive
        ? { id: context.id, organizationId: context.organizationId, projectId: context.projectId }
        : null,
      { message: 'LMS course not found.', details: { id: contextRef } },
    );
    if (!(await this.repo.membershipsUrl(context!.id, context!.platformId)))
      throw new LtiError('no_roster_service', 'No launch of this LMS course carried a roster service (NRPS) claim.');
    const { id } = await this.jobs.enqueue(
      ROSTER_SYNC_JOB,
      {
        contextRef: context!.id,
        organizationId: context!.organizationId,
        projectId: context!.projectId,
        ...(filter.role || filter.rlid ? { filter: { role: filter.role, rlid: filter.rlid } } : {}),
      },
      { owner: who, organizationId: context!.organizationId },
    );
    return id;
  }

  /** One look of the schedule: a sync job for each course whose roster is due; the jobs started. */
  async startDue(): Promise<string[]> {
    const every = this.settings.LTI_ROSTER_SYNC_INTERVAL_MS;
    if (every <= 0) return [];
    return this.transactions.run(async (tx) => {
      const [{ locked }] = await queryRows<{ locked: boolean }>(
        tx,
        `SELECT pg_try_advisory_xact_lock(hashtext('lti:roster:schedule')) AS locked`,
      );
      if (!locked) return [];
      const started: string[] = [];
      for (const c of await this.repo.dueContexts(every, PER_TICK)) {
        const { id } = await this.jobs.enqueue(
          SCHEDULED_ROSTER_SYNC_JOB,
          { contextRef: c.id, organizationId: c.organization_id, projectId: c.project_id },
          { owner: SYSTEM_OWNER, organizationId: c.organization_id },
          tx,
        );
        await this.repo.markSynced(c.id, tx);
        started.push(id);
      }
      return started;
    });
  }
}
