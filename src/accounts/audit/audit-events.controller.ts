import { Controller, Get, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiPropertyOptional, ApiTags, ApiOperation } from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import { IsOptional, IsString, IsUUID, Length } from 'class-validator';
import type { Request } from 'express';
import { Repository } from 'typeorm';
import { RequirePermission } from '../../permissions/require-permission.decorator';
import { Page, PageQuery, pageWindow, toPage } from '../../common/pagination/pagination';
import { IsTimestamp } from '../../common/validation/is-timestamp';
import type { AppAbility } from '../../permissions/ability';
import { scopeToAbility } from '../../permissions/ability-to-sql';
import { CurrentAbility } from '../../permissions/current-ability.decorator';
import { AuditEvent } from './audit-event.entity';

export class AuditQuery extends PageQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) action?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() organization?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() actor?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) subject_type?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) subject_id?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsTimestamp() since?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsTimestamp() until?: string;
}

export class AuditEventView {
  @ApiProperty() id: string;
  @ApiProperty() time: string;
  @ApiProperty() action: string;
  @ApiProperty() actor_type: string;
  @ApiProperty({ nullable: true, type: String }) actor_id: string | null;
  @ApiProperty({ nullable: true, type: String }) subject_type: string | null;
  @ApiProperty({ nullable: true, type: String }) subject_id: string | null;
  @ApiProperty({ nullable: true, type: String }) organization: string | null;
  @ApiProperty({ type: Object }) data: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;

  static of(e: AuditEvent): AuditEventView {
    return {
      id: e.id,
      time: e.occurredAt.toISOString(),
      action: e.action,
      actor_type: e.actorType,
      actor_id: e.actorId,
      subject_type: e.subjectType,
      subject_id: e.subjectId,
      organization: e.organizationId,
      data: e.data,
      ip: e.ip,
    };
  }
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit-events')
export class AuditEventsController {
  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  @Get()
  @ApiOperation({ summary: 'Audit events the caller may read, newest first' })
  @RequirePermission('read', 'AuditEvent')
  async list(
    @CurrentAbility() ability: AppAbility,
    @Query() q: AuditQuery,
    @Req() req: Request,
  ): Promise<Page<AuditEventView>> {
    const { offset, pageSize } = pageWindow(q);
    const qb = this.events
      .createQueryBuilder('e')
      .orderBy('e.occurred_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .skip(offset)
      .take(pageSize);
    scopeToAbility(qb, ability, 'read', 'AuditEvent', 'e');
    if (q.action) qb.andWhere('e.action = :action', { action: q.action });
    if (q.organization) qb.andWhere('e.organization_id = :org', { org: q.organization });
    if (q.actor) qb.andWhere('e.actor_id = :actor', { actor: q.actor });
    if (q.subject_type) qb.andWhere('e.subject_type = :st', { st: q.subject_type });
    if (q.subject_id) qb.andWhere('e.subject_id = :sid', { sid: q.subject_id });
    if (q.since) qb.andWhere('e.occurred_at >= :since', { since: q.since });
    if (q.until) qb.andWhere('e.occurred_at < :until', { until: q.until });
    const [rows, count] = await qb.getManyAndCount();
    return toPage(req, q, rows.map(AuditEventView.of), count);
  }
}
