import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { PageQuery } from '../../common/pagination/pagination';
import { IsTimestamp } from '../../common/validation/is-timestamp';
import type { LtiLaunch } from './lti-launch.entity';
import type { PlatformLaunchFilter } from './lti-launches.repository';

export class LtiLaunchQuery extends PageQuery implements PlatformLaunchFilter {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only this user’s launches.' })
  @IsOptional()
  @IsUUID()
  user?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Only launches at or after this instant.' })
  @IsOptional()
  @IsTimestamp()
  since?: string;
}

/**
 * One launch of a platform: who, when, from which deployment, into which course and link, with which
 * LTI roles. Never its claims (custom parameters, service endpoints, presentation), target link or the
 * exchange state: custom parameters are set by course staff in the LMS and may carry anything.
 */
export class LtiLaunchView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ example: 'LtiResourceLinkRequest' }) message_type: string;
  @ApiProperty({ format: 'uuid', description: 'The user the launch signed in.' }) user: string;
  @ApiProperty() deployment_id: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The LMS course (LTI context).' })
  context: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The course project of the context.' })
  project: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) resource_link: string | null;
  @ApiProperty({ type: [String], description: 'The LIS role URIs the platform sent.' }) roles: string[];

  static of(l: LtiLaunch): LtiLaunchView {
    return {
      id: l.id,
      created_at: l.createdAt.toISOString(),
      message_type: l.messageType,
      user: l.userId,
      deployment_id: l.deploymentId,
      context: l.contextRef,
      project: l.projectId,
      resource_link: l.resourceLinkRef,
      roles: l.roles,
    };
  }
}

export class LtiLaunchPage {
  @ApiProperty() count: number;
  @ApiProperty({ nullable: true, type: String }) next: string | null;
  @ApiProperty({ nullable: true, type: String }) previous: string | null;
  @ApiProperty({ type: [LtiLaunchView] }) results: LtiLaunchView[];
}
