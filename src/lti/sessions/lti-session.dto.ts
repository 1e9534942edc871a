import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class LtiSessionUserView {
  @ApiProperty() id: string;
  @ApiProperty() username: string;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty({ description: 'The e-mail came from a platform registered as verifying e-mails.' })
  email_verified: boolean;
  @ApiProperty() first_name: string;
  @ApiProperty() last_name: string;
}

export class LtiSessionProjectView {
  @ApiProperty() id: string;
  @ApiProperty() organization: string;
  @ApiProperty() key: string;
  @ApiProperty() name: string;
}

export class LtiSessionCourseAccountView {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['PENDING', 'OK', 'CLOSED', 'ERRED'] }) state: string;
  @ApiProperty({ nullable: true, type: String }) username: string | null;
  @ApiProperty({ nullable: true, type: String }) error_message: string | null;
  @ApiProperty() expires_at: string;
}

export class LtiSessionView {
  @ApiProperty({ description: 'One of our access tokens for the user (LTI_SESSION_TTL_SECONDS).' })
  access_token: string;
  @ApiProperty({ example: 'Bearer' }) token_type: 'Bearer';
  @ApiProperty() expires_in: number;
  @ApiProperty({ type: LtiSessionUserView }) user: LtiSessionUserView;
  @ApiProperty({
    type: LtiSessionProjectView,
    nullable: true,
    description: 'The course project of the context; null for a launch without one.',
  })
  project: LtiSessionProjectView | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'project_member',
    description: 'The project role the LMS roles gave.',
  })
  role: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    description:
      'Our id of the launch’s resource link (for grades: POST /api/v1/lti/links/{id}/scores); null without one.',
  })
  link: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    description:
      'Our id of the launch’s LMS course (for roster sync: POST /api/v1/lti/contexts/{id}/sync); null without one.',
  })
  context: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'The launch: message type, deployment, roles, context, resource link, custom, presentation, lis, AGS and NRPS claims.',
  })
  claims: Record<string, unknown>;
  @ApiPropertyOptional({
    type: LtiSessionCourseAccountView,
    nullable: true,
    description: 'The user’s course account in the project, when launches provision one.',
  })
  course_account: LtiSessionCourseAccountView | null;
}
