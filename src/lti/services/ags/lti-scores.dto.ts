import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNumber, IsOptional, IsString, IsUUID, Length, Max, Min } from 'class-validator';
import { ACTIVITY_PROGRESS, GRADING_PROGRESS } from './ags.client';
import type { LtiScore, ScoreState } from './lti-score.entity';

export class PostScoreDto {
  @ApiProperty({
    format: 'uuid',
    description: 'Our user the score is for (someone the LMS launched, so it knows them).',
  })
  @IsUUID()
  user: string;

  @ApiPropertyOptional({ example: 8.5, description: 'At most `score_maximum`; leave both out for progress only.' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1e9)
  score_given?: number;

  @ApiPropertyOptional({ example: 10 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1e9)
  score_maximum?: number;

  @ApiProperty({ enum: ACTIVITY_PROGRESS })
  @IsIn(ACTIVITY_PROGRESS)
  activity_progress: (typeof ACTIVITY_PROGRESS)[number];

  @ApiProperty({ enum: GRADING_PROGRESS })
  @IsIn(GRADING_PROGRESS)
  grading_progress: (typeof GRADING_PROGRESS)[number];

  @ApiPropertyOptional({ example: 'Well done.' })
  @IsOptional()
  @IsString()
  @Length(0, 4000)
  comment?: string;
}

export class LtiScoreView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', description: 'The resource link.' }) link: string;
  @ApiProperty({ format: 'uuid' }) user: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] }) state: ScoreState;
  @ApiProperty({ description: 'The score+json body posted to the platform.' }) score: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String }) line_item: string | null;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: Number, description: "The platform's last HTTP status (null: not reached)." })
  platform_status: number | null;
  @ApiProperty({ nullable: true, type: String, description: "The platform's last answer, or the network error." })
  platform_answer: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) job: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) delivered_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;

  static of(s: LtiScore): LtiScoreView {
    return {
      id: s.id,
      link: s.resourceLinkRef,
      user: s.userId,
      state: s.state,
      score: s.body,
      line_item: s.lineItemUrl,
      attempts: s.attempts,
      platform_status: s.platformStatus,
      platform_answer: s.platformAnswer,
      job: s.jobId,
      delivered_at: s.deliveredAt?.toISOString() ?? null,
      created_at: s.createdAt.toISOString(),
    };
  }
}

export class LineItemDto {
  @ApiProperty({ example: 'Lab 1' })
  @IsString()
  @Length(1, 255)
  label: string;

  @ApiProperty({ example: 10 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1e9)
  score_maximum: number;

  @ApiPropertyOptional({ example: 'lab-1' })
  @IsOptional()
  @IsString()
  @Length(0, 255)
  resource_id?: string;

  @ApiPropertyOptional({ example: 'grade' })
  @IsOptional()
  @IsString()
  @Length(0, 255)
  tag?: string;
}

export class LineItemView {
  @ApiProperty({ description: "The line item's URL at the platform." }) id: string;
  @ApiProperty() label: string;
  @ApiProperty() score_maximum: number;
  @ApiProperty({ nullable: true, type: String }) resource_id: string | null;
  @ApiProperty({ nullable: true, type: String }) resource_link_id: string | null;
  @ApiProperty({ nullable: true, type: String }) tag: string | null;
}

export class LtiResultView {
  @ApiProperty() line_item: string;
  @ApiProperty({ description: "The platform's user id." }) lti_user_id: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) user: string | null;
  @ApiProperty({ nullable: true, type: Number }) result_score: number | null;
  @ApiProperty({ nullable: true, type: Number }) result_maximum: number | null;
  @ApiProperty({ nullable: true, type: String }) comment: string | null;
}
