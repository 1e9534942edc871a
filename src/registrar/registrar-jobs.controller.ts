import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req, StreamableFile } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
} from '@nestjs/swagger';
import type { Principal } from '../common/auth/principal';
import { CurrentPrincipal } from '../common/decorators/current-principal.decorator';
import { Public } from '../common/decorators/public.decorator';
import { CommonError } from '../common/errors/common.errors';
import type { AppAbility } from '../permissions/ability';
import { CurrentAbility } from '../permissions/current-ability.decorator';
import { RequirePermission } from '../permissions/require-permission.decorator';
import { RegistrarJobStarted, RegistrarJobView } from './dto/registrar.dto';
import { RESULT_FORMATS } from './jobs/registrar.jobs';
import { RegistrarJobsService } from './registrar-jobs.service';
import { UploadsService } from './uploads.service';
import type { Request } from 'express';

/** A malformed id names no job: 404 like any other unknown id. */
const JobId = new ParseUUIDPipe({ exceptionFactory: () => new CommonError('not_found', 'No such job.') });
const FMT = {
  name: 'fmt',
  required: false,
  enum: RESULT_FORMATS,
  description: 'json (default) or csv; anything else is 404.',
};

const UPLOAD_BODY = {
  schema: {
    type: 'object',
    required: ['file'],
    properties: { file: { type: 'string', format: 'binary', description: 'UTF-8 CSV with a header row.' } },
  },
};

/** Registrar API reads that run as jobs (202 `{ job_id, job_url }`), and the jobs themselves. */
@ApiTags('registrar')
@ApiBearerAuth()
@Controller(['registrar/api/v1', 'registrar/api/v2'])
export class RegistrarJobsController {
  constructor(
    private readonly registrarJobs: RegistrarJobsService,
    private readonly uploads: UploadsService,
  ) {}

  @Get('programs/:programKey/enrollments')
  @RequirePermission('read_enrollments', 'Program')
  @HttpCode(202)
  @ApiOperation({ summary: "Registrar: start a job listing the program's enrollments" })
  @ApiQuery(FMT)
  @ApiAcceptedResponse({ type: RegistrarJobStarted })
  programEnrollments(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('programKey') key: string,
    @Query('fmt') fmt?: string,
  ): Promise<RegistrarJobStarted> {
    return this.registrarJobs.readProgramEnrollments(who, ability, key, fmt);
  }

  @Get('programs/:programKey/course_enrollments')
  @RequirePermission('read_enrollments', 'Program')
  @HttpCode(202)
  @ApiOperation({ summary: "Registrar: start a job listing the course enrollments of all the program's courses" })
  @ApiQuery(FMT)
  @ApiAcceptedResponse({ type: RegistrarJobStarted })
  allCourseEnrollments(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('programKey') key: string,
    @Query('fmt') fmt?: string,
  ): Promise<RegistrarJobStarted> {
    return this.registrarJobs.readCourseEnrollments(who, ability, key, null, fmt);
  }

  @Get('programs/:programKey/courses/:courseId/enrollments')
  @RequirePermission('read_enrollments', 'Program')
  @HttpCode(202)
  @ApiOperation({ summary: "Registrar: start a job listing one course's enrollments" })
  @ApiQuery(FMT)
  @ApiAcceptedResponse({ type: RegistrarJobStarted })
  courseEnrollments(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('programKey') key: string,
    @Param('courseId') courseId: string,
    @Query('fmt') fmt?: string,
  ): Promise<RegistrarJobStarted> {
    return this.registrarJobs.readCourseEnrollments(who, ability, key, courseId, fmt);
  }

  @Get('programs/:programKey/courses/:courseId/grades')
  @RequirePermission('read_enrollments', 'Program')
  @HttpCode(202)
  @ApiOperation({ summary: "Registrar: start a job listing the grades of a course's learners" })
  @ApiQuery(FMT)
  @ApiAcceptedResponse({ type: RegistrarJobStarted })
  grades(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('programKey') key: string,
    @Param('courseId') courseId: string,
    @Query('fmt') fmt?: string,
  ): Promise<RegistrarJobStarted> {
    return this.registrarJobs.readGrades(who, ability, key, courseId, fmt);
  }

  @Post('programs/:programKey/enrollments/upload')
  @RequirePermission('write_enrollments', 'Program')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Registrar: upload a CSV `student_key,status` that creates or updates program enrollments (a job)',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody(UPLOAD_BODY)
  @ApiAcceptedResponse({ type: RegistrarJobStarted })
  @ApiConflictResponse({ description: 'An upload of the program is still being processed.' })
  uploadProgramEnrollments(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('programKey') key: string,
    // The multipart body is read as a stream from the request itself, never buffered.
    @Req() req: Request,
  ): Promise<RegistrarJobStarted> {
    return this.uploads.upload(who, ability, key, 'program', req);
  }

  @Post('programs/:programKey/course_enrollments/upload')
  @RequirePermission('write_enrollments', 'Program')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Registrar: upload a CSV `student_key,course_id,status` that creates or updates course enrollments (a job)',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody(UPLOAD_BODY)
  @ApiAcceptedResponse({ type: RegistrarJobStarted })
  @ApiConflictResponse({ description: 'An upload of the program is still being processed.' })
  uploadCourseEnrollments(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('programKey') key: string,
    @Req() req: Request,
  ): Promise<RegistrarJobStarted> {
    return this.uploads.upload(who, ability, key, 'course', req);
  }

  @Get('jobs')
  @RequirePermission('read', 'Job')
  @ApiOperation({ summary: "Registrar: the caller's jobs still processing (Pending, In Progress, Retrying)" })
  @ApiOkResponse({ type: RegistrarJobView, isArray: true })
  list(@CurrentPrincipal() who: Principal): Promise<RegistrarJobView[]> {
    return this.registrarJobs.list(who);
  }

  @Get('jobs/:jobId')
  @RequirePermission('read', 'Job')
  @ApiOperation({ summary: 'Registrar: a job, with a signed expiring URL of its result file' })
  @ApiOkResponse({ type: RegistrarJobView })
  get(@CurrentAbility() ability: AppAbility, @Param('jobId', JobId) id: string): Promise<RegistrarJobView> {
    return this.registrarJobs.get(ability, id);
  }
}

/** The files behind signed result URLs: no credentials, the signature and its expiry are the access. */
@ApiTags('registrar')
@Controller('registrar/job-results')
export class RegistrarJobResultsController {
  constructor(private readonly registrarJobs: RegistrarJobsService) {}

  @Get(':file')
  @Public()
  @ApiOperation({ summary: "Registrar: a job's result file through its signed URL (403 when not valid or expired)" })
  @ApiProduces('application/json', 'text/csv')
  async download(
    @Param('file') file: string,
    @Query('expires') expires?: string,
    @Query('signature') signature?: string,
  ): Promise<StreamableFile> {
    const artifact = await this.registrarJobs.openResult(file, expires, signature);
    const options = {
      type: artifact.contentType,
      disposition: `attachment; filename="${file}"`,
      length: artifact.text !== undefined ? Buffer.byteLength(artifact.text) : artifact.size,
    };
    return artifact.text !== undefined
      ? new StreamableFile(Buffer.from(artifact.text, 'utf8'), options)
      : new StreamableFile(artifact.stream!, options);
  }
}
