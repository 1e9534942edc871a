import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import type { Principal } from '../../../common/auth/principal';
import { CurrentPrincipal } from '../../../common/decorators/current-principal.decorator';
import type { AppAbility } from '../../../permissions/ability';
import { CurrentAbility } from '../../../permissions/current-ability.decorator';
import { RequirePermission } from '../../../permissions/require-permission.decorator';
import { RosterSyncService } from './roster-sync.service';

export class RosterSyncDto {
  @ApiPropertyOptional({
    example: 'Learner',
    description: 'Only members with this LIS role (NRPS `role` filter); nobody is removed by a filtered sync.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 1024)
  role?: string;

  @ApiPropertyOptional({ description: 'Only members of this resource link (the LMS’s id; NRPS `rlid` filter).' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  rlid?: string;
}

export class RosterSyncStartedView {
  @ApiProperty({
    format: 'uuid',
    description: 'The job (GET /api/v1/jobs/{id}); its result is `{added, updated, removed, unchanged}`.',
  })
  job: string;
  @ApiProperty({ format: 'uuid' }) context: string;
}

@ApiTags('lti')
@ApiBearerAuth()
@Controller('lti/contexts')
export class LtiContextsController {
  constructor(private readonly roster: RosterSyncService) {}

  @Post(':id/sync')
  @HttpCode(202)
  @RequirePermission('update', 'LtiContext')
  @ApiOperation({
    summary: 'Sync an LMS course’s roster (LTI NRPS) into its course project’s role groups: a job',
    description:
      'Project managers of the course project or organization admins. 422 `no_roster_service` when no launch of the course carried the NRPS claim.',
  })
  @ApiAcceptedResponse({ type: RosterSyncStartedView })
  async sync(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: RosterSyncDto,
  ): Promise<RosterSyncStartedView> {
    return { job: await this.roster.start(who, ability, id, dto), context: id };
  }
}
