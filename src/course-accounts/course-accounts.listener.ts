import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { PROJECT_DELETED, ProjectDeletedEvent } from '../accounts/projects/project.events';
import { JobOwner, JobsService } from '../jobs/jobs.service';
import { CourseAccountsRepository } from './course-accounts.repository';
import { CLOSE_PROJECT_COURSE_ACCOUNTS_JOB, SYSTEM_JOB_OWNER } from './jobs/course-account.jobs';

/**
 * A deleted project's live accounts are closed by a job, started here. Failing to start it does not
 * fail the deletion: the daily expiry job also closes accounts left open in deleted projects.
 */
@Injectable()
export class CourseAccountsListener {
  private readonly logger = new Logger('CourseAccounts');

  constructor(
    private readonly accounts: CourseAccountsRepository,
    private readonly jobs: JobsService,
  ) {}

  @OnEvent(PROJECT_DELETED)
  async onProjectDeleted(event: ProjectDeletedEvent): Promise<void> {
    try {
      if (!(await this.accounts.hasLive(event.projectId))) return;
      const { type, id: actorId } = event.actor;
      const owner: JobOwner = type === 'user' || type === 'service_account' ? { type, id: actorId } : SYSTEM_JOB_OWNER;
      const { id } = await this.jobs.enqueue(
        CLOSE_PROJECT_COURSE_ACCOUNTS_JOB,
        { projectId: event.projectId },
        { owner, organizationId: event.organizationId },
      );
      this.logger.log(`Closing the course accounts of deleted project ${event.projectId} (job ${id})`);
    } catch (e) {
      this.logger.error(
        `Could not start closing the course accounts of deleted project ${event.projectId}: ${(e as Error).message}`,
      );
    }
  }
}
