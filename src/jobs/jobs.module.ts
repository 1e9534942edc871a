import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AccountsModule } from '../accounts/accounts.module';
import { PermissionsModule } from '../permissions/permissions.module';
import { UsersExportController } from './exports/users-export.controller';
import { EXPORTS_QUEUE } from './exports/users-export.job';
import { UsersExportProcessor } from './exports/users-export.processor';
import { UsersExportService } from './exports/users-export.service';
import { JobDispatcher } from './jobs.dispatcher';
import { JobsController } from './jobs.controller';
import { JobsRetention } from './jobs.retention';
import { JobOwnerRights } from './job-owner-rights';
import { JobRunner } from './jobs.runner';
import { JobsRepository } from './jobs.repository';
import { JobRunsRepository } from './job-runs.repository';
import { JobsService } from './jobs.service';
import { JobSubjects } from './jobs.subjects';
import { JobsSweeper } from './jobs.sweeper';
import { JobWorkers } from './jobs.workers';
import { DEFAULT_JOB_QUEUE } from './processors/job-definition';
import { JobProcessorRegistry } from './processors/job-processor.registry';
import { DeclaresJobQueues } from './queue/job-queues';
import { ArtifactStore } from './storage/artifact-store';

/**
 * Durable jobs: records, workers, sweeper, artifacts and retention. The queues that carry deliveries
 * (Bull or in-process, and the staff queue dashboard) come from JobQueuesModule, which AppModule builds
 * from every module's `@DeclaresJobQueues`.
 */
@DeclaresJobQueues(DEFAULT_JOB_QUEUE, EXPORTS_QUEUE)
@Module({
  imports: [DiscoveryModule, ScheduleModule.forRoot(), AccountsModule, PermissionsModule],
  controllers: [JobsController, UsersExportController],
  providers: [
    JobProcessorRegistry,
    ArtifactStore,
    JobDispatcher,
    JobRunner,
    JobOwnerRights,
    JobsRepository,
    JobRunsRepository,
    JobsService,
    JobsSweeper,
    JobsRetention,
    JobWorkers,
    UsersExportProcessor,
    UsersExportService,
    JobSubjects,
  ],
  exports: [JobsService, JobsRetention, JobsSweeper],
})
export class JobsModule {}
