import { Controller, HttpCode, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import { requireAccess } from '../../permissions/access';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import { RequirePermission } from '../../permissions/require-permission.decorator';
import type { Request } from 'express';
import { asSubject } from '../../permissions/ability';
import { RequestAbilities } from '../../permissions/request-abilities.service';
import { SubjectDirectory } from '../../permissions/subject-directory.service';
import { JobDto } from '../dto/job.dto';
import { JobsError } from '../jobs.errors';
import { JobsService } from '../jobs.service';
import { USERS_EXPORT } from './users-export.job';

@ApiTags('users')
@ApiBearerAuth()
@Controller('organizations/:id/users/export')
export class UsersExportController {
  constructor(
    private readonly jobs: JobsService,
    private readonly subjects: SubjectDirectory,
    private readonly abilities: RequestAbilities,
  ) {}

  @Post()
  @RequirePermission('export', 'User')
  @HttpCode(202)
  @ApiOperation({ summary: "Start a CSV export of an organization's users; follow it at /jobs/{job_id}" })
  @ApiAcceptedResponse({ type: JobDto })
  async export(
    @Param('id', new ParseUUIDPipe({ exceptionFactory: () => new JobsError('not_found', 'Organization not found.') }))
    organizationId: string,
    @CurrentPrincipal() who: Principal,
    @Req() req: Request,
  ): Promise<JobDto> {
    const ability = await this.abilities.of(req);
    // An organization whose users the caller cannot see answers exactly like one that does not exist.
    if (
      !(await this.organizationExists(organizationId)) ||
      !ability.can('read', asSubject('User', { organizationId }))
    ) {
      throw new JobsError('not_found', 'Organization not found.');
    }
    // The permission the job keeps requiring of its owner, checked here first.
    const permission = USERS_EXPORT.requires!({ organizationId });
    requireAccess(ability, permission.action, permission.subject, permission.object);
    const { id } = await this.jobs.enqueue(USERS_EXPORT, { organizationId }, { owner: who, organizationId });
    return this.jobs.get(who, id);
  }

  /** Unknown organizations are 404 even for staff; until accounts registers its scope resolver, the ability check alone decides. */
  private async organizationExists(id: string): Promise<boolean> {
    try {
      return (await this.subjects.load('Organization', id)) !== null;
    } catch (e) {
      if ((e as { code?: string }).code === 'scope_resolution_unavailable') return true;
      throw e;
    }
  }
}
