import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Principal } from '../common/auth/principal';
import { CurrentPrincipal } from '../common/decorators/current-principal.decorator';
import { RequirePermission } from '../permissions/require-permission.decorator';
import { toPage } from '../common/pagination/pagination';
import type { AppAbility } from '../permissions/ability';
import { CurrentAbility } from '../permissions/current-ability.decorator';
import { CourseAccountCreation } from './course-account.creation';
import { CourseAccountsService } from './course-accounts.service';
import {
  BulkCreateCourseAccountsDto,
  BulkCreateResult,
  CourseAccountJobView,
  CourseAccountPage,
  CourseAccountQuery,
  CourseAccountView,
  CreateCourseAccountDto,
  JobStarted,
  SetOkDto,
} from './dto/course-account.dto';

@ApiTags('course-accounts')
@ApiBearerAuth()
@Controller('course-accounts')
export class CourseAccountsController {
  constructor(
    private readonly courseAccounts: CourseAccountsService,
    private readonly creation: CourseAccountCreation,
  ) {}

  @Get()
  @RequirePermission('read', 'CourseAccount')
  @ApiOperation({ summary: 'Course accounts the caller may read, filtered and ordered' })
  @ApiOkResponse({ type: CourseAccountPage })
  async list(@Query() q: CourseAccountQuery, @CurrentAbility() ability: AppAbility, @Req() req: Request) {
    const [rows, count] = await this.courseAccounts.list(ability, q);
    return toPage(
      req,
      q,
      rows.map(({ account, project }) => CourseAccountView.of(account, project)),
      count,
    );
  }

  @Post()
  @RequirePermission('create', 'CourseAccount')
  @ApiOperation({
    summary: 'Create a course account in a course project',
    description:
      'The account is created upstream within the request: 201 with state OK, or 201 with state ERRED and error_message when the backend failed (retry it later).',
  })
  @ApiCreatedResponse({ type: CourseAccountView })
  async create(
    @Body() dto: CreateCourseAccountDto,
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
  ): Promise<CourseAccountView> {
    const { account, project } = await this.creation.create(who, ability, dto);
    return CourseAccountView.of(account, project);
  }

  @Post('bulk')
  @HttpCode(202)
  @RequirePermission('create', 'CourseAccount')
  @ApiOperation({
    summary: 'Create up to 1,000 course accounts in one course project',
    description:
      'Rows are validated first (nothing is created when one is invalid); duplicates are skipped and reported. The accounts are created PENDING and one job creates them upstream; each ends OK or ERRED.',
  })
  @ApiAcceptedResponse({ type: BulkCreateResult })
  async bulk(
    @Body() dto: BulkCreateCourseAccountsDto,
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
  ): Promise<BulkCreateResult> {
    return BulkCreateResult.of(await this.creation.bulkCreate(who, ability, dto));
  }

  @Post('close-expired')
  @HttpCode(202)
  @RequirePermission('close', 'CourseAccount')
  @ApiOperation({ summary: 'Staff: close expired course accounts now (otherwise done daily)' })
  @ApiAcceptedResponse({ type: JobStarted })
  async closeExpired(@CurrentPrincipal() who: Principal, @CurrentAbility() ability: AppAbility): Promise<JobStarted> {
    return JobStarted.of(await this.courseAccounts.startCloseExpired(who, ability));
  }

  @Post('reconcile')
  @HttpCode(202)
  @RequirePermission('update', 'CourseAccount')
  @ApiOperation({ summary: 'Staff: check OK course accounts upstream; those missing there become ERRED' })
  @ApiQuery({ name: 'project', required: false, description: 'Only this project.' })
  @ApiAcceptedResponse({ type: JobStarted })
  async reconcile(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Query('project', new ParseUUIDPipe({ optional: true })) project?: string,
  ): Promise<JobStarted> {
    return JobStarted.of(await this.courseAccounts.startReconcile(who, ability, project));
  }

  @Get(':id')
  @RequirePermission('read', 'CourseAccount')
  @ApiOperation({ summary: 'A course account' })
  @ApiOkResponse({ type: CourseAccountView })
  async get(@Param('id', ParseUUIDPipe) id: string, @CurrentAbility() ability: AppAbility): Promise<CourseAccountView> {
    const { account, project } = await this.courseAccounts.get(ability, id);
    return CourseAccountView.of(account, project);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('close', 'CourseAccount')
  @ApiOperation({
    summary: 'Close a course account',
    description:
      'Closes it upstream and deactivates its user: 204. A PENDING account whose creation has stalled (unchanged for COURSE_ACCOUNTS_PENDING_TIMEOUT_MS, no job on it) is closed by a job that first confirms or makes it upstream: 202 with the account and `job_id`. 409 when it is already CLOSED, or PENDING with its creation still under way; 502 when the backend refuses, the account is then ERRED with the error.',
  })
  @ApiNoContentResponse()
  @ApiAcceptedResponse({ type: CourseAccountJobView })
  async close(
    @Param('id', ParseUUIDPipe) id: string,
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CourseAccountJobView | void> {
    const started = await this.courseAccounts.close(who, ability, id);
    if (!started) return;
    res.status(202);
    return { ...CourseAccountView.of(started.account, started.project), job_id: started.jobId };
  }

  @Post(':id/retry')
  @HttpCode(202)
  @RequirePermission('retry', 'CourseAccount')
  @ApiOperation({
    summary: 'Retry an ERRED course account: PENDING, and a job runs the failed step (create or close) again',
    description:
      'Also a PENDING account whose creation has stalled (unchanged for COURSE_ACCOUNTS_PENDING_TIMEOUT_MS, no job on it): it is recorded ERRED, then retried. 409 in other states.',
  })
  @ApiAcceptedResponse({ type: CourseAccountJobView })
  async retry(
    @Param('id', ParseUUIDPipe) id: string,
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
  ): Promise<CourseAccountJobView> {
    const { account, project, jobId } = await this.courseAccounts.retry(who, ability, id);
    return CourseAccountJobView.withJob(account, project, jobId);
  }

  @Post(':id/set-ok')
  @HttpCode(200)
  @RequirePermission('update', 'CourseAccount')
  @ApiOperation({
    summary: 'Staff: bring an ERRED course account back to OK once the backend has it',
    description:
      'The backend is asked first: 409 `not_on_backend` when it has no such account (retry the account instead), 409 `invalid_transition` when the account is not ERRED. The move is audited with the reason, clears the error and reactivates the user.',
  })
  @ApiOkResponse({ type: CourseAccountView })
  async setOk(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: SetOkDto,
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
  ): Promise<CourseAccountView> {
    const { account, project } = await this.courseAccounts.setOk(who, ability, id, dto.reason);
    return CourseAccountView.of(account, project);
  }
}
