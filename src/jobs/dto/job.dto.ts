import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/pagination/pagination';
import { JOB_STATES, JobState } from '../job.entity';

export class JobArtifactDto {
  @ApiProperty({ example: 'users.csv' })
  name: string;

  @ApiProperty({ description: 'Download link (same access rules as the job).' })
  url: string;

  @ApiProperty({ example: 'text/csv; charset=utf-8' })
  content_type: string;

  @ApiProperty({ description: 'Bytes.' })
  size: number;
}

export class JobDto {
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

  @ApiProperty({ type: [JobArtifactDto] })
  artifacts: JobArtifactDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Short text result (the inline `result` artifact), if any.',
  })
  text: string | null;
}

export class JobPageDto {
  @ApiProperty()
  count: number;

  @ApiProperty({ type: String, nullable: true })
  next: string | null;

  @ApiProperty({ type: String, nullable: true })
  previous: string | null;

  @ApiProperty({ type: [JobDto] })
  results: JobDto[];
}

export class ListJobsQuery extends PageQuery {
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
