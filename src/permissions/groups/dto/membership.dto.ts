import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID, ValidateIf } from 'class-validator';
import type { PrincipalType } from '../../../common/auth/principal';
import { PageQuery } from '../../../common/pagination/pagination';
import { IsTimestamp } from '../../../common/validation/is-timestamp';
import type { GroupMembership } from '../group-membership.entity';

export const PRINCIPAL_TYPES = ['user', 'service_account'] as const satisfies readonly PrincipalType[];

export class MemberQuery extends PageQuery {}

export class AddMemberDto {
  @ApiProperty({ enum: PRINCIPAL_TYPES })
  @IsIn(PRINCIPAL_TYPES)
  principal_type: PrincipalType;

  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  principal_id: string;

  @ApiPropertyOptional({
    format: 'date-time',
    nullable: true,
    description: 'From then on the membership grants nothing. Null or absent: never.',
  })
  @IsOptional()
  @IsTimestamp()
  expires_at?: string | null;
}

export class UpdateMemberDto {
  @ApiProperty({ format: 'date-time', nullable: true, description: 'New expiry; null: never expires.' })
  @ValidateIf((o: UpdateMemberDto) => o.expires_at !== null)
  @IsTimestamp()
  expires_at: string | null;
}

export class MemberPath {
  @IsUUID()
  id: string;

  @IsIn(PRINCIPAL_TYPES)
  principalType: PrincipalType;

  @IsUUID()
  principalId: string;
}

export class MemberView {
  @ApiProperty({ format: 'uuid' }) group_id: string;
  @ApiProperty({ enum: PRINCIPAL_TYPES }) principal_type: PrincipalType;
  @ApiProperty({ format: 'uuid' }) principal_id: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) expires_at: Date | null;
  @ApiProperty({ description: 'False once expires_at has passed: the membership grants nothing.' }) active: boolean;
  @ApiProperty() created_at: Date;
  @ApiProperty() updated_at: Date;

  static of(m: GroupMembership, now = new Date()): MemberView {
    return {
      group_id: m.groupId,
      principal_type: m.principalType,
      principal_id: m.principalId,
      expires_at: m.expiresAt,
      active: m.expiresAt === null || m.expiresAt > now,
      created_at: m.createdAt,
      updated_at: m.updatedAt,
    };
  }
}
