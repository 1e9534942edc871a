import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { JobsModule } from '../jobs/jobs.module';
import { PermissionsModule } from '../permissions/permissions.module';
import { CourseEnrollment } from './course-enrollment.entity';
import { EnrollmentsRepository } from './enrollments.repository';
import { ProgramCourse } from './program-course.entity';
import { ProgramEnrollment } from './program-enrollment.entity';
import { ProgramReport } from './program-report.entity';
import { Program } from './program.entity';
import { ProgramsController } from './programs.controller';
import { ProgramsRepository } from './programs.repository';
import { ProgramsService } from './programs.service';
import {
  RegistrarProgramsController,
  RegistrarProgramsV3Controller,
  RegistrarReportFilesController,
} from './registrar.controller';
import { ReportsService } from './reports.service';
import { ProgramImportService } from './program-import.service';
import { RegistrarSubjects } from './registrar.subjects';
import { RegistrarEnrollmentsController } from './registrar-enrollments.controller';
import { EnrollmentsService } from './enrollments.service';
import { RegistrarGrades } from './grades';
import {
  CourseEnrollmentsReadProcessor,
  CourseGradesReadProcessor,
  ProgramEnrollmentsReadProcessor,
} from './jobs/enrollment-exports.processors';
import { REGISTRAR_QUEUE } from './jobs/registrar.jobs';
import { RegistrarJobResultsController, RegistrarJobsController } from './registrar-jobs.controller';
import { RegistrarJobsService } from './registrar-jobs.service';
import { SignedUrls } from './signed-urls';
import { UploadsRepository } from './uploads.repository';
import { UploadsService } from './uploads.service';
import { EnrollmentsUploadProcessor } from './jobs/enrollments-upload.processor';
import { ProgramUpload } from './program-upload.entity';
import { ProgramUploadRow } from './program-upload-row.entity';
import { DeclaresJobQueues } from '../jobs/queue/job-queues';

/** Programs, program courses and enrollments, and the Open edX Registrar-compatible API. See README.md here. */
@DeclaresJobQueues(REGISTRAR_QUEUE)
@Module({
  imports: [
    TypeOrmModule.forFeature([
      Program,
      ProgramCourse,
      ProgramEnrollment,
      CourseEnrollment,
      ProgramReport,
      ProgramUpload,
      ProgramUploadRow,
    ]),
    AccountsModule,
    PermissionsModule,
    JobsModule,
  ],
  controllers: [
    ProgramsController,
    RegistrarProgramsController,
    RegistrarProgramsV3Controller,
    RegistrarEnrollmentsController,
    RegistrarJobsController,
    RegistrarJobResultsController,
    RegistrarReportFilesController,
  ],
  providers: [
    RegistrarSubjects,
    ProgramsRepository,
    EnrollmentsRepository,
    ProgramsService,
    EnrollmentsService,
    SignedUrls,
    RegistrarGrades,
    RegistrarJobsService,
    ProgramEnrollmentsReadProcessor,
    CourseEnrollmentsReadProcessor,
    CourseGradesReadProcessor,
    UploadsRepository,
    UploadsService,
    EnrollmentsUploadProcessor,
    ReportsService,
    ProgramImportService,
  ],
  exports: [ProgramsService, RegistrarGrades],
})
export class RegistrarModule {}
