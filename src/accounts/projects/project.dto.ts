import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, IsUUID, Length, Matches, ValidateIf } from 'class-validator';
import { SLUG } from '../organizations/organization.dto';
import { Project, ProjectKind } from './project.entity';
import { UserHasPermQuery } from '../../permissions/user-has-perm';

const KINDS: ProjectKind[] = ['default', 'course'];
const DATE_ONLY = { strict: true, strictSeparator: true };

export class CreateProjectDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  organization: string;

  @ApiProperty({ example: 'engl-101-2026' })
  @IsString()
  @Matches(SLUG, { message: 'key must be a slug (a-z, 0-9, -; 1–64 characters)' })
  key: string;

  @ApiProperty()
  @IsString()
  @Length(1, 255)
  name: string;

  @ApiPropertyOptional({ enum: KINDS, default: 'default' })
  @IsOptional()
  @IsIn(KINDS)
  kind?: ProjectKind;

  @ApiPropertyOptional({ format: 'date', example: '2026-09-01' })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'start_date must be a date (YYYY-MM-DD)' })
  @IsISO8601(DATE_ONLY)
  start_date?: string;

  @ApiPropertyOptional({ format: 'date', description: 'Required for course projects.' })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'end_date must be a date (YYYY-MM-DD)' })
  @IsISO8601(DATE_ONLY)
  end_date?: string;
}

export class UpdateProjectDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) name?: string;

  @ApiPropertyOptional({ enum: KINDS }) @IsOptional() @IsIn(KINDS) kind?: ProjectKind;

  @ApiPropertyOptional({ format: 'date', nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'start_date must be a date (YYYY-MM-DD)' })
  @IsISO8601(DATE_ONLY)
  start_date?: string | null;

  @ApiPropertyOptional({ format: 'date', nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'end_date must be a date (YYYY-MM-DD)' })
  @IsISO8601(DATE_ONLY)
  end_date?: string | null;
}

export class ProjectQuery extends UserHasPermQuery {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() organization?: string;
  @ApiPropertyOptional({ enum: KINDS }) @IsOptional() @IsIn(KINDS) kind?: ProjectKind;
  @ApiPropertyOptional() @IsOptional() @IsString() search?: string;
}

export class ProjectView {
  @ApiProperty() id: string;
  @ApiProperty() organization: string;
  @ApiProperty() key: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: KINDS }) kind: ProjectKind;
  @ApiProperty({ nullable: true, type: String }) start_date: string | null;
  @ApiProperty({ nullable: true, type: String }) end_date: string | null;
  @ApiProperty() created: string;
  @ApiProperty() modified: string;

  static of(p: Project): ProjectView {
    return {
      id: p.id,
      organization: p.organizationId,
      key: p.key,
      name: p.name,
      kind: p.kind,
      start_date: p.startDate,
      end_date: p.endDate,
      created: p.createdAt.toISOString(),
      modified: p.updatedAt.toISOString(),
    };
  }
}
