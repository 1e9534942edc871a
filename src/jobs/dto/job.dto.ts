import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import type { JobArtifact } from '../job-artifact.entity';
import { Job, JOB_STATES, JobState } from '../job.entity';
import { UserHasPermQuery } from '../../permissions/user-has-perm';

/** The artifact whose inline text is shown as the job's `text`. */
export const RESULT_ARTIFACT = 'result';

export class JobArtifactView {
  @ApiProperty({ example: 'users.csv' })
  name: string;

  @ApiProperty({ description: 'Download link (same access rules as the job).' })
  url: string;

  @ApiProperty({ example: 'text/csv; charset=utf-8' })
  content_type: string;

  @ApiProperty({ description: 'Bytes.' })
  size: number;
}

export class JobView {
  @ApiProperty({ format: 'uuid' })
  job_id: string;

  @ApiProperty({ example: 'users.export' })
  name: string;

  @ApiProperty({ enum: JOB_STATES })
  state: JobState;

  @ApiProperty({ format: 'date-time' })
  created: string;

  @ApiProperty({ format: 'date-time' })
  modified: string;

  @ApiProperty()
  completed_steps: number;

  @ApiProperty({ type: Number, nullable: true })
  total_steps: number | null;

  @ApiProperty({ description: 'Runs started so far.' })
  attempts: number;

  @ApiProperty({ type: String, nullable: true, description: 'Last failure; always set when the state is Failed.' })
  error: string | null;

  @ApiProperty({ type: [JobArtifactView] })
  artifacts: JobArtifactView[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Short text result (the inline `result` artifact), if any.',
  })
  text: string | null;

  /** A job with its artifacts (in name order), their download links under `apiBase`. */
  static of(job: Job, artifacts: JobArtifact[], apiBase: string): JobView {
    return {
      job_id: job.id,
      name: job.name,
      state: job.state,
      created: job.createdAt.toISOString(),
      modified: job.updatedAt.toISOString(),
      completed_steps: job.completedSteps,
      total_steps: job.totalSteps,
      attempts: job.attempts,
      error: job.error,
      artifacts: artifacts.map((a) => ({
        name: a.name,
        url: `${apiBase}/jobs/${job.id}/artifacts/${encodeURIComponent(a.name)}`,
        content_type: a.contentType,
        size: a.size,
      })),
      text: artifacts.find((a) => a.name === RESULT_ARTIFACT)?.text ?? null,
    };
  }
}

export class JobPage {
  @ApiProperty()
  count: number;

  @ApiProperty({ type: String, nullable: true })
  next: string | null;

  @ApiProperty({ type: String, nullable: true })
  previous: string | null;

  @ApiProperty({ type: [JobView] })
  results: JobView[];
}

export class ListJobsQuery extends UserHasPermQuery {
  @ApiPropertyOptional({ enum: JOB_STATES })
  @IsOptional()
  @IsIn(JOB_STATES)
  state?: JobState;

  @ApiPropertyOptional({ example: 'users.export' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  name?: string;
}
