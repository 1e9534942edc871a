import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { AppAbility } from '../permissions/ability';
import { CurrentAbility } from '../permissions/current-ability.decorator';
import { RequirePermission } from '../permissions/require-permission.decorator';
import { toPage } from '../common/pagination/pagination';
import { JobView, JobPage, ListJobsQuery } from './dto/job.dto';
import { JobsService } from './jobs.service';

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get()
  @RequirePermission('read', 'Job')
  @ApiOperation({ summary: "The caller's jobs, newest first (staff and support: every job)" })
  @ApiOkResponse({ type: JobPage })
  async list(@Query() query: ListJobsQuery, @CurrentAbility() ability: AppAbility, @Req() req: Request) {
    const [rows, count] = await this.jobs.list(ability, query);
    return toPage(req, query, rows, count);
  }

  @Get(':id')
  @RequirePermission('read', 'Job')
  @ApiOperation({ summary: 'A job: state, progress, error and artifacts' })
  @ApiOkResponse({ type: JobView })
  get(@Param('id', ParseUUIDPipe) id: string, @CurrentAbility() ability: AppAbility): Promise<JobView> {
    return this.jobs.get(ability, id);
  }

  @Post(':id/cancel')
  @RequirePermission('cancel', 'Job')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a job: at once if waiting, at its next step if running; 409 if finished' })
  @ApiOkResponse({ type: JobView })
  cancel(@Param('id', ParseUUIDPipe) id: string, @CurrentAbility() ability: AppAbility): Promise<JobView> {
    return this.jobs.cancel(ability, id);
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
    @Param('id', ParseUUIDPipe) id: string,
    @Param('name') name: string,
    @CurrentAbility() ability: AppAbility,
  ): Promise<StreamableFile> {
    const artifact = await this.jobs.openArtifact(ability, id, name);
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
