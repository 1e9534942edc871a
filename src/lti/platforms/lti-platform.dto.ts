import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
} from 'class-validator';
import type { JWK } from 'jose';
import { UserHasPermQuery } from '../../permissions/user-has-perm';
import { ROLE_MAPPING_TARGETS, RoleMappingTarget } from '../provisioning/lti-roles';
import { COURSE_ACCOUNT_POLICIES, CourseAccountPolicy, LtiPlatform } from './lti-platform.entity';

const ROLE_MAPPINGS_DOC =
  'Overrides of the default role mapping: LIS role (full URI, sub-role URI, simple name such as `Instructor`, or LTI 1.1 URN) → `project_manager`, `project_contributor`, `project_member` or `none`. Stored under the canonical URI.';

export class CreateLtiPlatformDto {
  @ApiProperty({ format: 'uuid', description: 'The organization whose course projects the platform launches into.' })
  @IsUUID()
  organization: string;

  @ApiPropertyOptional({ example: 'Canvas (production)' })
  @IsOptional()
  @IsString()
  @Length(0, 255)
  name?: string;

  @ApiProperty({ example: 'https://canvas.instructure.com', description: 'The `iss` of the platform’s id_tokens.' })
  @IsString()
  @Length(1, 255)
  issuer: string;

  @ApiProperty({ example: '10000000000042', description: 'The client id the platform gave this tool.' })
  @IsString()
  @Length(1, 255)
  client_id: string;

  @ApiProperty({
    example: 'https://sso.canvaslms.com/api/lti/authorize_redirect',
    description: 'OIDC authorization endpoint.',
  })
  @IsString()
  @Length(1, 2048)
  auth_login_url: string;

  @ApiProperty({
    example: 'https://sso.canvaslms.com/login/oauth2/token',
    description: 'OAuth2 token endpoint (grade and roster services).',
  })
  @IsString()
  @Length(1, 2048)
  auth_token_url: string;

  @ApiProperty({ example: 'https://sso.canvaslms.com/api/lti/security/jwks', description: 'The platform’s JWKS.' })
  @IsString()
  @Length(1, 2048)
  jwks_url: string;

  @ApiProperty({ type: [String], description: 'The deployment ids launches may carry (at least one).' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 255, { each: true })
  deployment_ids: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', enum: [...ROLE_MAPPING_TARGETS] },
    description: ROLE_MAPPINGS_DOC,
  })
  @IsOptional()
  @IsObject()
  role_mappings?: Record<string, RoleMappingTarget>;

  @ApiPropertyOptional({ default: false, description: 'The platform verifies the e-mail addresses it sends.' })
  @IsOptional()
  @IsBoolean()
  verifies_email?: boolean;

  @ApiPropertyOptional({
    enum: COURSE_ACCOUNT_POLICIES,
    default: 'never',
    description:
      'Whether a launch into a course provisions the user’s course account there: never, always, or when the resource link’s custom parameter `campus_access_course_account` is `true`.',
  })
  @IsOptional()
  @IsIn(COURSE_ACCOUNT_POLICIES)
  course_accounts_on_launch?: CourseAccountPolicy;
}

export class UpdateLtiPlatformDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 255) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) issuer?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) client_id?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 2048) auth_login_url?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 2048) auth_token_url?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 2048) jwks_url?: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 255, { each: true })
  deployment_ids?: string[];

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

export class LtiPlatformQuery extends UserHasPermQuery {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() organization?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() issuer?: string;
}

/** What an LMS administrator pastes into the LMS to register the tool. */
export class LtiToolConfigView {
  @ApiProperty({ description: 'OpenID Connect login initiation URL.' }) login_initiation_url: string;
  @ApiProperty({ description: 'Redirect (launch) URL.' }) redirect_url: string;
  @ApiProperty({ description: 'Target link URL (the default placement).' }) target_link_url: string;
  @ApiProperty({ description: 'The tool’s public keyset (JWKS) URL.' }) jwks_url: string;
  @ApiProperty({ description: 'The tool’s active public key (JWK).', type: 'object', additionalProperties: true })
  public_jwk: JWK | null;
  @ApiProperty({
    description: 'The same key as a PEM (for LMSs that take a pasted key).',
    nullable: true,
    type: String,
  })
  public_key_pem: string | null;
  @ApiProperty({ description: 'The tool’s domain.' }) domain: string;
}

export class LtiPlatformView {
  @ApiProperty() id: string;
  @ApiProperty() organization: string;
  @ApiProperty() name: string;
  @ApiProperty() issuer: string;
  @ApiProperty() client_id: string;
  @ApiProperty() auth_login_url: string;
  @ApiProperty() auth_token_url: string;
  @ApiProperty() jwks_url: string;
  @ApiProperty({ type: [String] }) deployment_ids: string[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) role_mappings: Record<string, string>;
  @ApiProperty() verifies_email: boolean;
  @ApiProperty({ enum: COURSE_ACCOUNT_POLICIES }) course_accounts_on_launch: CourseAccountPolicy;
  @ApiProperty({
    description: 'False for a platform that registered itself and waits for approval: no launch until then.',
  })
  approved: boolean;
  @ApiProperty() created: string;
  @ApiProperty() modified: string;
  @ApiProperty({ type: LtiToolConfigView }) tool: LtiToolConfigView;

  static of(p: LtiPlatform, tool: LtiToolConfigView): LtiPlatformView {
    return {
      id: p.id,
      organization: p.organizationId,
      name: p.name,
      issuer: p.issuer,
      client_id: p.clientId,
      auth_login_url: p.authLoginUrl,
      auth_token_url: p.authTokenUrl,
      jwks_url: p.jwksUrl,
      deployment_ids: p.deploymentIds,
      role_mappings: p.roleMappings,
      verifies_email: p.verifiesEmail,
      course_accounts_on_launch: p.courseAccountsOnLaunch,
      approved: p.approved,
      created: p.createdAt.toISOString(),
      modified: p.updatedAt.toISOString(),
      tool,
    };
  }
}

export class LtiPlatformPage {
  @ApiProperty() count: number;
  @ApiProperty({ nullable: true, type: String }) next: string | null;
  @ApiProperty({ nullable: true, type: String }) previous: string | null;
  @ApiProperty({ type: [LtiPlatformView] }) results: LtiPlatformView[];
}
