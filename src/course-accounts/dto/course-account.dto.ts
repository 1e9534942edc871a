import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsIn,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import type { ProjectSummary } from '../../accounts/projects/project.types';
import { IsTimestamp } from '../../common/validation/is-timestamp';
import { COURSE_ACCOUNT_STATES, CourseAccount, CourseAccountState } from '../course-account.entity';
import { UserHasPermQuery } from '../../permissions/user-has-perm';

/** Rows a bulk creation may hold. */
export const BULK_MAX_ROWS = 1000;

export const ORDERINGS = [
  'created',
  '-created',
  'username',
  '-username',
  'state',
  '-state',
  'project_end_date',
  '-project_end_date',
] as const;
export type CourseAccountOrdering = (typeof ORDERINGS)[number];

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_ONLY = { strict: true, strictSeparator: true };
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateCourseAccountDto {
  @ApiProperty({ format: 'uuid', description: 'A course project with an end date that has not passed.' })
  @IsUUID()
  project: string;

  @ApiPropertyOptional({ example: 'student@example.edu' })
  @IsOptional()
  @Transform(trim)
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ format: 'date-time', description: "Default: the end of the project's end date; never later." })
  @IsOptional()
  @IsTimestamp()
  expires_at?: string;
}

export class SetOkDto {
  @ApiProperty({
    description: 'Why the account is OK again (kept in the audit log).',
    example: 'Fixed upstream by hand',
  })
  @Transform(trim)
  @IsString()
  @Matches(/\S/, { message: 'reason must not be empty' })
  @MaxLength(1000)
  reason: string;
}

export class BulkCourseAccountRow {
  @ApiProperty({ example: 'student@example.edu' })
  @Transform(trim)
  @IsEmail()
  @MaxLength(254)
  email: string;

  @ApiPropertyOptional({ default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class BulkCreateCourseAccountsDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  project: string;

  @ApiProperty({ type: [BulkCourseAccountRow], maxItems: BULK_MAX_ROWS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BULK_MAX_ROWS)
  // ValidateNested passes a row that is itself an array without looking inside it.
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => BulkCourseAccountRow)
  course_accounts: BulkCourseAccountRow[];

  @ApiPropertyOptional({ format: 'date-time', description: "Default: the end of the project's end date; never later." })
  @IsOptional()
  @IsTimestamp()
  expires_at?: string;
}

const toArray = ({ value }: { value: unknown }) =>
  value === undefined
    ? undefined
    : (Array.isArray(value) ? value : [value]).map((v) => (typeof v === 'string' ? v.toUpperCase() : v));

export class CourseAccountQuery extends UserHasPermQuery {
  @ApiPropertyOptional({ description: 'Username contains (case-insensitive).' })
  @IsOptional()
  @IsString()
  username?: string;

  @ApiPropertyOptional({ description: 'E-mail contains (case-insensitive).' })
  @IsOptional()
  @IsString()
  email?: string;

  @ApiPropertyOptional({ enum: COURSE_ACCOUNT_STATES, isArray: true, description: 'Repeat for several states.' })
  @IsOptional()
  @Transform(toArray)
  @IsIn(COURSE_ACCOUNT_STATES, { each: true })
  state?: CourseAccountState[];

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  project?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  organization?: string;

  @ApiPropertyOptional({ format: 'date' })
  @IsOptional()
  @Matches(DATE, { message: 'project_start_date_after must be a date (YYYY-MM-DD)' })
  @IsISO8601(DATE_ONLY)
  project_start_date_after?: string;

  @ApiPropertyOptional({ format: 'date' })
  @IsOptional()
  @Matches(DATE, { message: 'project_start_date_before must be a date (YYYY-MM-DD)' })
  @IsISO8601(DATE_ONLY)
  project_start_date_before?: string;

  @ApiPropertyOptional({ format: 'date' })
  @IsOptional()
  @Matches(DATE, { message: 'project_end_date_after must be a date (YYYY-MM-DD)' })
  @IsISO8601(DATE_ONLY)
  project_end_date_after?: string;

  @ApiPropertyOptional({ format: 'date' })
  @IsOptional()
  @Matches(DATE, { message: 'project_end_date_before must be a date (YYYY-MM-DD)' })
  @IsISO8601(DATE_ONLY)
  project_end_date_before?: string;

  @ApiPropertyOptional({ enum: ORDERINGS, default: '-created' })
  @IsOptional()
  @IsIn(ORDERINGS)
  ordering?: CourseAccountOrdering;
}

export class CourseAccountView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: COURSE_ACCOUNT_STATES }) state: CourseAccountState;
  @ApiProperty({ nullable: true, type: String, description: 'Given by the backend once the account exists there.' })
  username: string | null;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty() description: string;
  @ApiProperty({ format: 'uuid' }) project: string;
  @ApiProperty({ nullable: true, type: String }) project_name: string | null;
  @ApiProperty({ nullable: true, type: String }) project_key: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date' }) project_start_date: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date' }) project_end_date: string | null;
  @ApiProperty({ format: 'uuid' }) organization: string;
  @ApiProperty({ format: 'uuid', description: 'The user of kind course_account made for the account.' }) user: string;
  @ApiProperty({ nullable: true, type: String }) backend_id: string | null;
  @ApiProperty({ nullable: true, type: String }) error_message: string | null;
  @ApiProperty({ nullable: true, type: String }) error_traceback: string | null;
  @ApiProperty({ format: 'date-time' }) expires_at: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) closed_at: string | null;
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty({ format: 'date-time' }) modified: string;

  static of(
    a: CourseAccount,
    p: Pick<ProjectSummary, 'name' | 'key' | 'startDate' | 'endDate'> | null,
  ): CourseAccountView {
    return {
      id: a.id,
      state: a.state,
      username: a.username,
      email: a.email,
      description: a.description,
      project: a.projectId,
      project_name: p?.name ?? null,
      project_key: p?.key ?? null,
      project_start_date: p?.startDate ?? null,
      project_end_date: p?.endDate ?? null,
      organization: a.organizationId,
      user: a.userId,
      backend_id: a.backendId,
      error_message: a.errorMessage,
      error_traceback: a.errorTraceback,
      expires_at: a.expiresAt.toISOString(),
      closed_at: a.closedAt ? a.closedAt.toISOString() : null,
      created: a.createdAt.toISOString(),
      modified: a.updatedAt.toISOString(),
    };
  }
}

export class CourseAccountPage {
  @ApiProperty() count: number;
  @ApiProperty({ nullable: true, type: String }) next: string | null;
  @ApiProperty({ nullable: true, type: String }) previous: string | null;
  @ApiProperty({ type: [CourseAccountView] }) results: CourseAccountView[];
}

export class CourseAccountJobView extends CourseAccountView {
  @ApiProperty({ format: 'uuid', description: 'The job running the retried step (GET /api/v1/jobs/{job_id}).' })
  job_id: string;

  static withJob(account: CourseAccount, project: ProjectSummary, jobId: string): CourseAccountJobView {
    return { ...CourseAccountView.of(account, project), job_id: jobId };
  }
}

export class SkippedRow {
  @ApiProperty({ description: 'Index of the row in course_accounts.' }) row: number;
  @ApiProperty() email: string;
  @ApiProperty({ enum: ['duplicate_in_request', 'account_exists'] }) reason: 'duplicate_in_request' | 'account_exists';
  @ApiPropertyOptional({ format: 'uuid', description: 'The live account with this e-mail (account_exists).' })
  account?: string;
  @ApiPropertyOptional({ description: 'The earlier row with this e-mail (duplicate_in_request).' })
  duplicate_of?: number;
}

export class BulkCreateResult {
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'The job creating the accounts upstream (null when every row was skipped).',
  })
  job_id: string | null;
  @ApiProperty({ type: [CourseAccountView], description: 'The accounts created PENDING, in request order.' })
  course_accounts: CourseAccountView[];
  @ApiProperty({ type: [SkippedRow] }) skipped: SkippedRow[];

  static of(created: {
    jobId: string | null;
    accounts: CourseAccount[];
    project: ProjectSummary;
    skipped: SkippedRow[];
  }): BulkCreateResult {
    return {
      job_id: created.jobId,
      course_accounts: created.accounts.map((a) => CourseAccountView.of(a, created.project)),
      skipped: created.skipped,
    };
  }
}

export class JobStarted {
  @ApiProperty({ format: 'uuid' }) job_id: string;

  static of(jobId: string): JobStarted {
    return { job_id: jobId };
  }
}
