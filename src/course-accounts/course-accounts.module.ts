import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { EventsModule } from '../events/events.module';
import { JobsModule } from '../jobs/jobs.module';
import { DeclaresJobQueues } from '../jobs/queue/job-queues';
import { PermissionsModule } from '../permissions/permissions.module';
import { COURSE_ACCOUNT_BACKEND_PROVIDER } from './backends/course-account-backend.provider';
import { MockBackendAccount } from './backends/mock-backend-account.entity';
import { CourseAccount } from './course-account.entity';
import { CourseAccountRecovery } from './course-account.recovery';
import { CourseAccountProvisioner } from './course-account.provisioner';
import { CourseAccountStateMachine } from './course-account.state-machine';
import { CourseAccountsController } from './course-accounts.controller';
import { CourseAccountsListener } from './course-accounts.listener';
import { CourseAccountsScheduler } from './course-accounts.scheduler';
import { CourseAccountsRepository } from './course-accounts.repository';
import { CourseAccountCreation } from './course-account.creation';
import { CourseAccountsService } from './course-accounts.service';
import { CourseAccountSubjects } from './course-accounts.subjects';
import { CourseAccountLifecycle } from './jobs/course-account.lifecycle';
import {
  CloseExpiredCourseAccountsProcessor,
  CloseProjectCourseAccountsProcessor,
  CreateCourseAccountsProcessor,
  ReconcileCourseAccountsProcessor,
  RetryCourseAccountsProcessor,
} from './jobs/course-account.processors';
import { COURSE_ACCOUNTS_QUEUE } from './jobs/course-account.jobs';

/** Course accounts: temporary accounts of course projects on an external system. See README.md here. */
@DeclaresJobQueues(COURSE_ACCOUNTS_QUEUE)
@Module({
  imports: [
    TypeOrmModule.forFeature([CourseAccount, MockBackendAccount]),
    AccountsModule,
    EventsModule,
    PermissionsModule,
    JobsModule,
  ],
  controllers: [CourseAccountsController],
  providers: [
    CourseAccountSubjects,
    COURSE_ACCOUNT_BACKEND_PROVIDER,
    CourseAccountsRepository,
    CourseAccountStateMachine,
    CourseAccountProvisioner,
    CourseAccountRecovery,
    CourseAccountsService,
    CourseAccountCreation,
    CourseAccountLifecycle,
    CourseAccountsListener,
    CourseAccountsScheduler,
    CreateCourseAccountsProcessor,
    RetryCourseAccountsProcessor,
    CloseExpiredCourseAccountsProcessor,
    CloseProjectCourseAccountsProcessor,
    ReconcileCourseAccountsProcessor,
  ],
  exports: [CourseAccountsService, CourseAccountStateMachine],
})
export class CourseAccountsModule {}
