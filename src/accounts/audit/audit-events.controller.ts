import { Controller, Get, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { RequirePermission } from '../../permissions/require-permission.decorator';
import { Page, toPage } from '../../common/pagination/pagination';
import type { AppAbility } from '../../permissions/ability';
import { CurrentAbility } from '../../permissions/current-ability.decorator';
import { AuditEventView, AuditQuery } from './audit-event.dto';
import { AuditService } from './audit.service';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit-events')
export class AuditEventsController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'Audit events the caller may read, newest first' })
  @RequirePermission('read', 'AuditEvent')
  async list(
    @CurrentAbility() ability: AppAbility,
    @Query() q: AuditQuery,
    @Req() req: Request,
  ): Promise<Page<AuditEventView>> {
    const [rows, count] = await this.audit.list(ability, q);
    return toPage(req, q, rows.map(AuditEventView.of), count);
  }
}
