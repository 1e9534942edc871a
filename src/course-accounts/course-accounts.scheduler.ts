import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { JobsService } from '../jobs/jobs.service';
import { CourseAccountStateMachine } from './course-account.state-machine';
import { queryRows } from '../database/query';
import {
  CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB,
  CREATE_COURSE_ACCOUNTS_JOB,
  SYSTEM_JOB_OWNER,
  SYSTEM_OWNER_USERNAME,
} from './jobs/course-account.jobs';
import { TransactionRunner } from '../database/transaction';

/** How often each process looks whether something is due; the first look waits as long. */
const TICK_MS = 10 * 60_000;
/** Accounts handed to one recovery job at most. */
const RECOVERY_BATCH = 1000;

/**
 * Starts the periodic course-account jobs: closing expired accounts every
 * COURSE_ACCOUNTS_EXPIRY_INTERVAL_MS, and a creation job for accounts stuck PENDING (their request
 * or job died). Every process ticks; an advisory lock and the time of the last job keep replicas
 * from starting the same work twice.
 */
@Injectable()
export class CourseAccountsScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('CourseAccounts');
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly jobs: JobsService,
    private readonly machine: CourseAccountStateMachine,
    @InjectSettings() private readonly settings: Settings,
    private readonly transactions: TransactionRunner,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(
      () => void this.tick().catch((e: Error) => this.logger.warn(`Course-account schedule failed: ${e.message}`)),
      TICK_MS,
    );
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One look: starts what is due; returns the jobs started. */
  async tick(): Promise<{ closeExpired?: string; recovery?: string }> {
    return this.transactions.run(async (tx) => {
      const [{ locked }] = await queryRows<{ locked: boolean }>(
        tx,
        `SELECT pg_try_advisory_xact_lock(hashtext('course_accounts:schedule')) AS locked`,
      );
      if (!locked) return {};
      const started: { closeExpired?: string; recovery?: string } = {};
      const every = this.settings.COURSE_ACCOUNTS_EXPIRY_INTERVAL_MS;
      if (every > 0) {
        const last = (await this.jobs.latestCreatedAt(CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB.name))?.getTime() ?? 0;
        if (Date.now() - last >= every) {
          started.closeExpired = (
            await this.jobs.enqueue(CLOSE_EXPIRED_COURSE_ACCOUNTS_JOB, {}, { owner: SYSTEM_JOB_OWNER }, tx)
          ).id;
        }
      }
      const stuck = await this.machine.takeStuckPending(
        tx,
        this.settings.COURSE_ACCOUNTS_PENDING_TIMEOUT_MS,
        RECOVERY_BATCH,
      );
      if (stuck.length > 0) {
        started.recovery = (
          await this.jobs.enqueue(
            CREATE_COURSE_ACCOUNTS_JOB,
            { accountIds: stuck, ownerUsername: SYSTEM_OWNER_USERNAME },
            { owner: SYSTEM_JOB_OWNER, totalSteps: stuck.length },
            tx,
          )
        ).id;
        this.logger.warn(
          `${stuck.length} course accounts were PENDING for too long; job ${started.recovery} resumes their creation`,
        );
      }
      return started;
    });
  }
}
