import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUrl, IsUUID, Length, Matches, ValidateIf } from 'class-validator';
import { UserHasPermQuery } from '../../permissions/user-has-perm';
import { ProgramCourse } from '../program-course.entity';
import { Program, PROGRAM_STATUSES, ProgramStatus } from '../program.entity';

/** Program keys as the Registrar API puts them in paths: no slash, no whitespace. */
export const PROGRAM_KEY = /^[A-Za-z0-9][A-Za-z0-9._:+~-]{0,254}$/;
/** Course run keys (`course-v1:Org+Course+Run`) and external course keys: one path segment. */
export const COURSE_KEY = /^[^/\s?#%]{1,255}$/;
const URL_OPTIONS = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

export class CreateProgramDto {
  @ApiProperty({ format: 'uuid', description: 'The managing organization.' })
  @IsUUID()
  organization: string;

  @ApiProperty({ example: 'masters-in-english', description: 'Unique across the deployment.' })
  @IsString()
  @Matches(PROGRAM_KEY, { message: 'key must be 1–255 letters, digits or ._:+~- (no slash or space)' })
  key: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Shared identifier with other systems; generated if omitted.' })
  @IsOptional()
  @IsUUID()
  uuid?: string;

  @ApiProperty({ example: 'Master of Arts in English' })
  @IsString()
  @Length(1, 255)
  title: string;

  @ApiPropertyOptional({ example: 'Masters', default: 'Masters' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  type?: string;

  @ApiPropertyOptional({ example: 'https://example.edu/masters-in-english', nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUrl(URL_OPTIONS)
  @Length(1, 2048)
  url?: string | null;

  @ApiPropertyOptional({ enum: PROGRAM_STATUSES, default: 'active' })
  @IsOptional()
  @IsIn(PROGRAM_STATUSES)
  status?: ProgramStatus;
}

export class UpdateProgramDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(PROGRAM_KEY, { message: 'key must be 1–255 letters, digits or ._:+~- (no slash or space)' })
  key?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) title?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) type?: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUrl(URL_OPTIONS)
  @Length(1, 2048)
  url?: string | null;

  @ApiPropertyOptional({ enum: PROGRAM_STATUSES }) @IsOptional() @IsIn(PROGRAM_STATUSES) status?: ProgramStatus;
}

export class ProgramQuery extends UserHasPermQuery {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() organization?: string;
  @ApiPropertyOptional({ description: 'Part of the key or title.' }) @IsOptional() @IsString() search?: string;
}

/** `POST /programs/import?organization=`: every row of one import goes to this organization. */
export class ImportProgramsQuery {
  @ApiProperty({ format: 'uuid', description: 'The organization the programs are created in or belong to.' })
  @IsUUID()
  organization: string;
}

export class ProgramView {
  @ApiProperty() id: string;
  @ApiProperty() organization: string;
  @ApiProperty() key: string;
  @ApiProperty() uuid: string;
  @ApiProperty() title: string;
  @ApiProperty() type: string;
  @ApiProperty({ nullable: true, type: String }) url: string | null;
  @ApiProperty({ enum: PROGRAM_STATUSES }) status: ProgramStatus;
  @ApiProperty() created: string;
  @ApiProperty() modified: string;

  static of(p: Program): ProgramView {
    return {
      id: p.id,
      organization: p.organizationId,
      key: p.key,
      uuid: p.uuid,
      title: p.title,
      type: p.type,
      url: p.url,
      status: p.status,
      created: p.createdAt.toISOString(),
      modified: p.updatedAt.toISOString(),
    };
  }
}

export class CreateProgramCourseDto {
  @ApiProperty({
    example: 'course-v1:HUMx+English-550+Spring',
    description: 'The course run key; unique in the program.',
  })
  @IsString()
  @Matches(COURSE_KEY, { message: 'course_id must be 1–255 characters without slash, space, ?, # or %' })
  course_id: string;

  @ApiPropertyOptional({ example: 'ENG55-S19', nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Matches(COURSE_KEY, { message: 'external_course_key must be 1–255 characters without slash, space, ?, # or %' })
  external_course_key?: string | null;

  @ApiProperty({ example: 'English 550' }) @IsString() @Length(1, 255) title: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUrl(URL_OPTIONS)
  @Length(1, 2048)
  url?: string | null;
}

export class UpdateProgramCourseDto {
  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Matches(COURSE_KEY, { message: 'external_course_key must be 1–255 characters without slash, space, ?, # or %' })
  external_course_key?: string | null;

  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) title?: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUrl(URL_OPTIONS)
  @Length(1, 2048)
  url?: string | null;
}

export class ProgramCourseView {
  @ApiProperty() id: string;
  @ApiProperty() program: string;
  @ApiProperty() course_id: string;
  @ApiProperty({ nullable: true, type: String }) external_course_key: string | null;
  @ApiProperty() title: string;
  @ApiProperty({ nullable: true, type: String }) url: string | null;
  @ApiProperty() created: string;
  @ApiProperty() modified: string;

  static of(c: ProgramCourse): ProgramCourseView {
    return {
      id: c.id,
      program: c.programId,
      course_id: c.courseId,
      external_course_key: c.externalCourseKey,
      title: c.title,
      url: c.url,
      created: c.createdAt.toISOString(),
      modified: c.updatedAt.toISOString(),
    };
  }
}
