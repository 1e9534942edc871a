import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNumber, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { PageQuery } from '../../../common/pagination/pagination';
import { DELIVERY_STATES, DeliveryState, LtiGradedAssignment } from '../lti-graded-assignment.entity';

export class ScoreDto {
  @ApiProperty({ minimum: 0, maximum: 1, example: 0.85, description: 'The result, from 0.0 to 1.0.' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  score: number;
}

export class LtiAssignmentQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() project?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() user?: string;
  @ApiPropertyOptional({ enum: DELIVERY_STATES }) @IsOptional() @IsIn(DELIVERY_STATES) state?: DeliveryState;
}

export class LtiAssignmentView {
  @ApiProperty() id: string;
  @ApiProperty() organization: string;
  @ApiProperty({ nullable: true, type: String, description: 'The course project of the launch’s context.' })
  project: string | null;
  @ApiProperty() user: string;
  @ApiProperty() resource_link_id: string;
  @ApiProperty() lis_result_sourcedid: string;
  @ApiProperty({
    enum: DELIVERY_STATES,
    description:
      '`none` (nothing asked), `pending` (being sent, retried with backoff), `delivered`, `failed` (see last_error).',
  })
  state: DeliveryState;
  @ApiProperty({ nullable: true, enum: ['replace', 'delete'] }) operation: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'The score of the latest replace request.' })
  score: number | null;
  @ApiProperty({ description: 'How many requests were made.' }) revision: number;
  @ApiProperty({ description: 'Delivery attempts of the latest request.' }) attempts: number;
  @ApiProperty({ nullable: true, type: String }) last_error: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The job sending the latest request.' })
  job: string | null;
  @ApiProperty({ nullable: true, type: String }) requested_at: string | null;
  @ApiProperty({ nullable: true, type: String }) delivered_at: string | null;
  @ApiProperty() created: string;
  @ApiProperty() modified: string;

  static of(a: LtiGradedAssignment): LtiAssignmentView {
    return {
      id: a.id,
      organization: a.organizationId,
      project: a.projectId,
      user: a.userId,
      resource_link_id: a.resourceLinkId,
      lis_result_sourcedid: a.lisResultSourcedid,
      state: a.state,
      operation: a.operation,
      score: a.score,
      revision: a.revision,
      attempts: a.attempts,
      last_error: a.lastError,
      job: a.jobId,
      requested_at: a.requestedAt?.toISOString() ?? null,
      delivered_at: a.deliveredAt?.toISOString() ?? null,
      created: a.createdAt.toISOString(),
      modified: a.updatedAt.toISOString(),
    };
  }
}

export class LtiAssignmentPage {
  @ApiProperty() count: number;
  @ApiProperty({ nullable: true, type: String }) next: string | null;
  @ApiProperty({ nullable: true, type: String }) previous: string | null;
  @ApiProperty({ type: [LtiAssignmentView] }) results: LtiAssignmentView[];
}
