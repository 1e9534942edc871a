import { Controller, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import type { AppAbility } from '../../permissions/ability';
import { CurrentAbility } from '../../permissions/current-ability.decorator';
import { RequirePermission } from '../../permissions/require-permission.decorator';
import { JobView } from '../dto/job.dto';
import { UsersExportService } from './users-export.service';

@ApiTags('users')
@ApiBearerAuth()
@Controller('organizations/:id/users/export')
export class UsersExportController {
  constructor(private readonly exports: UsersExportService) {}

  @Post()
  @RequirePermission('export', 'User')
  @HttpCode(202)
  @ApiOperation({ summary: "Start a CSV export of an organization's users; follow it at /jobs/{job_id}" })
  @ApiAcceptedResponse({ type: JobView })
  export(
    @Param('id', ParseUUIDPipe) organizationId: string,
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
  ): Promise<JobView> {
    return this.exports.start(who, ability, organizationId);
  }
}
