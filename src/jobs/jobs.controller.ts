import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../common/auth/principal';
import { CurrentPrincipal } from '../common/decorators/current-principal.decorator';
import { RequirePermission } from '../permissions/require-permission.decorator';
import { toPage } from '../common/pagination/pagination';
import { RequestAbilities } from '../permissions/request-abilities.service';
import { JobDto, JobPageDto, ListJobsQuery } from './dto/job.dto';
import { JobsError } from './jobs.errors';
import { JobsService } from './jobs.service';

/** A malformed id names no job: 404 like any other unknown id. */
const JobId = new ParseUUIDPipe({ exceptionFactory: () => new JobsError('not_found', 'No such job.') });

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly abilities: RequestAbilities,
  ) {}

  @Get()
  @RequirePermission('read', 'Job')
  @ApiOperation({ summary: "The caller's jobs, newest first (staff and support: every job)" })
  @ApiOkResponse({ type: JobPageDto })
  async list(@Query() query: ListJobsQuery, @CurrentPrincipal() who: Principal, @Req() req: Request) {
    const { count, results } = await this.jobs.list(who, query);
    return toPage(req, query, results, count);
  }

  @Get(':id')
  @RequirePermission('read', 'Job')
  @ApiOperation({ summary: 'A job: state, progress, error and artifacts' })
  @ApiOkResponse({ type: JobDto })
  get(@Param('id', JobId) id: string, @CurrentPrincipal() who: Principal): Promise<JobDto> {
    return this.jobs.get(who, id);
  }

  @Post(':id/cancel')
  @RequirePermission('cancel', 'Job')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a job: at once if waiting, at its next step if running; 409 if finished' })
  @ApiOkResponse({ type: JobDto })
  cancel(@Param('id', JobId) id: string, @CurrentPrincipal() who: Principal): Promise<JobDto> {
    return this.jobs.cancel(who, id);
  }

  @Get(':id/artifacts/:name')
  @RequirePermission('read', 'Job')
  @ApiOperation({
    summary: "Download a job's artifact (streamed)",
    description:
      "403 when its owner no longer holds the permission the job needs, for example to export the organization's users.",
  })
  @ApiProduces('application/octet-stream')
  async download(
    @Param('id', JobId) id: string,
    @Param('name') name: string,
    @CurrentPrincipal() who: Principal,
    @Req() req: Request,
  ): Promise<StreamableFile> {
    const artifact = await this.jobs.openArtifact(who, id, name, await this.abilities.of(req));
    const options = {
      type: artifact.contentType,
      disposition: `attachment; filename="${artifact.name}"`,
      length: artifact.text !== undefined ? Buffer.byteLength(artifact.text) : artifact.size,
    };
    return artifact.text !== undefined
      ? new StreamableFile(Buffer.from(artifact.text, 'utf8'), options)
      : new StreamableFile(artifact.stream!, options);
  }
}
