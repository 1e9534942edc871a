import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { JobsService } from '../jobs/jobs.service';
import { CourseAccountRecovery } from './course-account.recovery';
import { queryRows } from '../database/query';
import {
  CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB,
  CREATE_COURSE_ACCOUNTS_JOB,
  SYSTEM_JOB_OWNER,
  SYSTEM_OWNER_USERNAME,
} from './jobs/course-account.jobs';
import { TransactionRunner } from '../database/transaction';

/** How often each process looks whether the expiry job is due; the first look waits as long. */
const EXPIRY_TICK_MS = 10 * 60_000;
/** The first look for stalled PENDING accounts after start, so a process that restarts often still recovers them. */
const FIRST_PENDING_CHECK_MS = 5_000;
/** Accounts handed to one recovery job at most. */
const RECOVERY_BATCH = 1000;

/**
 * Starts the periodic course-account jobs: closing expired accounts every
 * COURSE_ACCOUNTS_EXPIRY_INTERVAL_MS, and, every COURSE_ACCOUNTS_PENDING_CHECK_INTERVAL_MS (the
 * first time soon after start), a creation job for accounts stalled PENDING (their request or job
 * died; see CourseAccountRecovery). Every process looks; an advisory lock and the time of the last
 * job keep replicas from starting the expiry twice, and the recovery's row locks from taking an
 * account twice.
 */
@Injectable()
export class CourseAccountsScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('CourseAccounts');
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly jobs: JobsService,
    private readonly recovery: CourseAccountRecovery,
    @InjectSettings() private readonly settings: Settings,
    private readonly transactions: TransactionRunner,
  ) {}

  onApplicationBootstrap(): void {
    const safely = (look: () => Promise<unknown>) => () =>
      void look().catch((e: Error) => this.logger.warn(`Course-account schedule failed: ${e.message}`));
    const checkPending = safely(() => this.recoverStalled());
    const every = this.settings.COURSE_ACCOUNTS_PENDING_CHECK_INTERVAL_MS;
    this.timers.push(
      setInterval(
        safely(() => this.startExpiryIfDue()),
        EXPIRY_TICK_MS,
      ),
    );
    if (every > 0) {
      this.timers.push(
        setTimeout(checkPending, Math.min(every, FIRST_PENDING_CHECK_MS)),
        setInterval(checkPending, every),
      );
    }
    for (const timer of this.timers) timer.unref();
  }

  onModuleDestroy(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }

  /** One look at both: starts what is due; returns the jobs started. */
  async tick(): Promise<{ closeExpired?: string; recovery?: string }> {
    return { ...(await this.startExpiryIfDue()), ...(await this.recoverStalled()) };
  }

  /** Starts the expiry job when the last one is COURSE_ACCOUNTS_EXPIRY_INTERVAL_MS old. */
  async startExpiryIfDue(): Promise<{ closeExpired?: string }> {
    const every = this.settings.COURSE_ACCOUNTS_EXPIRY_INTERVAL_MS;
    if (every <= 0) return {};
    return this.transactions.run(async (tx) => {
      const [{ locked }] = await queryRows<{ locked: boolean }>(
        tx,
        `SELECT pg_try_advisory_xact_lock(hashtext('course_accounts:schedule')) AS locked`,
      );
      if (!locked) return {};
      const last = (await this.jobs.latestCreatedAt(CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB.name))?.getTime() ?? 0;
      if (Date.now() - last < every) return {};
      return {
        closeExpired: (await this.jobs.enqueue(CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB, {}, { owner: SYSTEM_JOB_OWNER }, tx))
          .id,
      };
    });
  }

  /** Hands accounts stalled PENDING (see CourseAccountRecovery, through machine.takeStuckPending) to a new creation job. */
  async recoverStalled(): Promise<{ recovery?: string }> {
    return this.transactions.run(async (tx) => {
      const stalled = await this.recovery.claimStalled(tx, { limit: RECOVERY_BATCH });
      if (stalled.length === 0) return {};
      const { id } = await this.jobs.enqueue(
        CREATE_COURSE_ACCOUNTS_JOB,
        { accountIds: stalled, ownerUsername: SYSTEM_OWNER_USERNAME },
        { owner: SYSTEM_JOB_OWNER, totalSteps: stalled.length },
        tx,
      );
      this.logger.warn(`${stalled.length} course accounts were stalled PENDING; job ${id} resumes their creation`);
      return { recovery: id };
    });
  }
}
