import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { ROLE_NAMES } from '../../roles';
import { SCOPE_TYPES, ScopeType } from '../../subjects';
import { UserHasPermQuery } from '../../user-has-perm';
import type { Group } from '../group.entity';

export class GroupQuery extends UserHasPermQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only groups of this organization.' })
  @IsOptional()
  @IsUUID()
  organization?: string;

  @ApiPropertyOptional({ enum: SCOPE_TYPES })
  @IsOptional()
  @IsIn(SCOPE_TYPES)
  scope_type?: ScopeType;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  scope_id?: string;

  @ApiPropertyOptional({ enum: ROLE_NAMES })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  role?: string;
}

export class CreateGroupDto {
  @ApiProperty({ maxLength: 255 })
  @IsString()
  @Length(1, 255)
  name: string;

  @ApiProperty({ enum: SCOPE_TYPES })
  @IsIn(SCOPE_TYPES)
  scope_type: ScopeType;

  @ApiProperty({ format: 'uuid', description: 'The organization, program or project the role applies to.' })
  @IsUUID()
  scope_id: string;

  @ApiProperty({ enum: ROLE_NAMES, description: "A role whose scope type is the group's (GET /api/v1/roles)." })
  @IsString()
  @MaxLength(64)
  role: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

/** The scope of a group never changes; create another group instead. */
export class UpdateGroupDto {
  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  name?: string;

  @ApiPropertyOptional({ enum: ROLE_NAMES })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  role?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class GroupView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) organization_id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: SCOPE_TYPES }) scope_type: ScopeType;
  @ApiProperty({ format: 'uuid' }) scope_id: string;
  @ApiProperty({ enum: ROLE_NAMES }) role: string;
  @ApiProperty() description: string;
  @ApiProperty() created_at: Date;
  @ApiProperty() updated_at: Date;

  static of(g: Group): GroupView {
    return {
      id: g.id,
      organization_id: g.organizationId,
      name: g.name,
      scope_type: g.scopeType,
      scope_id: g.scopeId,
      role: g.role,
      description: g.description,
      created_at: g.createdAt,
      updated_at: g.updatedAt,
    };
  }
}
