import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { IsTimestamp } from '../../common/validation/is-timestamp';
import type { AuditEvent } from './audit-event.entity';
import { UserHasPermQuery } from '../../permissions/user-has-perm';

export class AuditQuery extends UserHasPermQuery {
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
