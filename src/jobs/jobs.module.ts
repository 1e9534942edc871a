import { Logger, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AccountsModule } from '../accounts/accounts.module';
import { SETTINGS } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { PermissionsModule } from '../permissions/permissions.module';
import { QueueDashboard } from './dashboard/queue-dashboard';
import { UsersExportController } from './exports/users-export.controller';
import { UsersExportProcessor } from './exports/users-export.processor';
import { JobDispatcher } from './jobs.dispatcher';
import { JobsController } from './jobs.controller';
import { JobsRetention } from './jobs.retention';
import { JobRunner } from './jobs.runner';
import { JobsService } from './jobs.service';
import { JobSubjects } from './jobs.subjects';
import { JobsSweeper } from './jobs.sweeper';
import { JobWorkers } from './jobs.workers';
import { JobProcessorRegistry } from './processors/job-processor.registry';
import { BullQueueAdapter } from './queue/bull.queue-adapter';
import { InProcessQueueAdapter } from './queue/in-process.queue-adapter';
import { QUEUE_ADAPTER, QueueAdapter } from './queue/queue-adapter';
import { ArtifactStore } from './storage/artifact-store';

function createQueueAdapter(settings: Settings): QueueAdapter {
  if (settings.JOB_HEARTBEAT_TIMEOUT_MS <= 2 * settings.JOB_HEARTBEAT_INTERVAL_MS) {
    throw new Error(
      `JOB_HEARTBEAT_TIMEOUT_MS (${settings.JOB_HEARTBEAT_TIMEOUT_MS}) must exceed twice JOB_HEARTBEAT_INTERVAL_MS (${settings.JOB_HEARTBEAT_INTERVAL_MS})`,
    );
  }
  if (!settings.REDIS_URL) return new InProcessQueueAdapter();
  const logger = new Logger('Jobs');
  let lastLog = 0;
  return new BullQueueAdapter({
    redisUrl: settings.REDIS_URL,
    prefix: settings.JOB_QUEUE_PREFIX,
    onError: (queue, e) => {
      if (Date.now() - lastLog < 10_000) return;
      lastLog = Date.now();
      logger.warn(`Queue ${queue}: ${e.message}`);
    },
  });
}

/** Durable jobs: records, queues (Bull or in-process), workers, sweeper, artifacts, retention and the staff queue dashboard. */
@Module({
  imports: [DiscoveryModule, ScheduleModule.forRoot(), AccountsModule, PermissionsModule],
  controllers: [JobsController, UsersExportController],
  providers: [
    { provide: QUEUE_ADAPTER, inject: [SETTINGS], useFactory: createQueueAdapter },
    JobProcessorRegistry,
    ArtifactStore,
    JobDispatcher,
    JobRunner,
    JobsService,
    JobsSweeper,
    JobsRetention,
    JobWorkers,
    UsersExportProcessor,
    JobSubjects,
    QueueDashboard,
  ],
  exports: [JobsService, JobsRetention, JobsSweeper, QUEUE_ADAPTER, QueueDashboard],
})
export class JobsModule {}
