import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsObject, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { UserHasPermQuery } from '../../permissions/user-has-perm';
import { COURSE_ACCOUNT_POLICIES, CourseAccountPolicy } from '../platforms/lti-platform.entity';
import { ROLE_MAPPING_TARGETS, RoleMappingTarget } from '../provisioning/lti-roles';
import type { LtiConsumer } from './lti-consumer.entity';

const ROLE_MAPPINGS_DOC =
  'Overrides of the default role mapping, as for LTI 1.3 platforms: LIS role (simple name such as `Instructor`, LTI 1.1 URN or LIS v2 URI) → `project_manager`, `project_contributor`, `project_member` or `none`.';
const KEY_PATTERN = /^[\x21-\x7e]+$/;

export class CreateLtiConsumerDto {
  @ApiProperty({ format: 'uuid', description: 'The organization whose course projects the consumer launches into.' })
  @IsUUID()
  organization: string;

  @ApiProperty({ example: 'Moodle (production)', description: 'Unique among live consumers.' })
  @IsString()
  @Length(1, 255)
  consumer_name: string;

  @ApiPropertyOptional({
    example: 'moodle-prod',
    description: 'The OAuth consumer key (printable ASCII, unique among live consumers); generated when absent.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  @Matches(KEY_PATTERN, { message: 'consumer_key must be printable ASCII without spaces' })
  consumer_key?: string;

  @ApiPropertyOptional({
    example: 'moodle.example.edu',
    description: '`tool_consumer_instance_guid`; when absent, the first launch that carries one sets it.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  instance_guid?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', enum: [...ROLE_MAPPING_TARGETS] },
    description: ROLE_MAPPINGS_DOC,
  })
  @IsOptional()
  @IsObject()
  role_mappings?: Record<string, RoleMappingTarget>;

  @ApiPropertyOptional({ default: false, description: 'The consumer verifies the e-mail addresses it sends.' })
  @IsOptional()
  @IsBoolean()
  verifies_email?: boolean;

  @ApiPropertyOptional({ enum: COURSE_ACCOUNT_POLICIES, default: 'never' })
  @IsOptional()
  @IsIn(COURSE_ACCOUNT_POLICIES)
  course_accounts_on_launch?: CourseAccountPolicy;
}

export class UpdateLtiConsumerDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) consumer_name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 255)
  @Matches(KEY_PATTERN, { message: 'consumer_key must be printable ASCII without spaces' })
  consumer_key?: string;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'null clears it (the next launch sets it again).' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  instance_guid?: string | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', enum: [...ROLE_MAPPING_TARGETS] },
    description: ROLE_MAPPINGS_DOC,
  })
  @IsOptional()
  @IsObject()
  role_mappings?: Record<string, RoleMappingTarget>;

  @ApiPropertyOptional() @IsOptional() @IsBoolean() verifies_email?: boolean;

  @ApiPropertyOptional({ enum: COURSE_ACCOUNT_POLICIES })
  @IsOptional()
  @IsIn(COURSE_ACCOUNT_POLICIES)
  course_accounts_on_launch?: CourseAccountPolicy;
}

export class LtiConsumerQuery extends UserHasPermQuery {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() organization?: string;
}

/** What an LMS administrator pastes into the LMS (Moodle "External tool", Canvas "Add App"). */
export class LtiConsumerToolView {
  @ApiProperty({ description: 'Tool URL / Launch URL.' }) launch_url: string;
  @ApiProperty({ description: 'The consumer key.' }) consumer_key: string;
  @ApiProperty({ description: 'The tool’s domain (Canvas “Domain”).' }) domain: string;
}

export class LtiConsumerView {
  @ApiProperty() id: string;
  @ApiProperty() organization: string;
  @ApiProperty() consumer_name: string;
  @ApiProperty() consumer_key: string;
  @ApiProperty({ nullable: true, type: String }) instance_guid: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) role_mappings: Record<string, string>;
  @ApiProperty() verifies_email: boolean;
  @ApiProperty({ enum: COURSE_ACCOUNT_POLICIES }) course_accounts_on_launch: CourseAccountPolicy;
  @ApiProperty() created: string;
  @ApiProperty() modified: string;
  @ApiProperty({ type: LtiConsumerToolView }) tool: LtiConsumerToolView;

  static of(c: LtiConsumer, launchUrl: string): LtiConsumerView {
    return {
      id: c.id,
      organization: c.organizationId,
      consumer_name: c.consumerName,
      consumer_key: c.consumerKey,
      instance_guid: c.instanceGuid,
      role_mappings: c.roleMappings,
      verifies_email: c.verifiesEmail,
      course_accounts_on_launch: c.courseAccountsOnLaunch,
      created: c.createdAt.toISOString(),
      modified: c.updatedAt.toISOString(),
      tool: { launch_url: launchUrl, consumer_key: c.consumerKey, domain: new URL(launchUrl).host },
    };
  }
}

/** The answer of a creation or a rotation: the only time the shared secret is shown. */
export class LtiConsumerWithSecretView extends LtiConsumerView {
  @ApiProperty({ description: 'The shared secret. Shown once: store it in the LMS now.' })
  consumer_secret: string;

  static withSecret(c: LtiConsumer, launchUrl: string, secret: string): LtiConsumerWithSecretView {
    return { ...LtiConsumerView.of(c, launchUrl), consumer_secret: secret };
  }
}

export class LtiConsumerPage {
  @ApiProperty() count: number;
  @ApiProperty({ nullable: true, type: String }) next: string | null;
  @ApiProperty({ nullable: true, type: String }) previous: string | null;
  @ApiProperty({ type: [LtiConsumerView] }) results: LtiConsumerView[];
}
