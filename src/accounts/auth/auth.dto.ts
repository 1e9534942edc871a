import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Length, ValidateIf } from 'class-validator';
import type { Principal } from '../../common/auth/principal';
import type { Grant } from '../../permissions/ability';

export class LoginDto {
  @ApiPropertyOptional({ description: 'Username (or use email).' })
  @ValidateIf((o: LoginDto) => o.email === undefined)
  @IsString()
  @Length(1, 254)
  username?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsEmail()
  email?: string;

  @ApiProperty()
  @IsString()
  @Length(1, 1024)
  password: string;
}

export class RefreshDto {
  @ApiProperty() @IsString() @Length(1, 512) refresh_token: string;
}

export class ChangePasswordDto {
  @ApiProperty({ description: 'The password the caller logs in with now.' })
  @IsString()
  @Length(1, 1024)
  current_password: string;
  @ApiProperty({ minLength: 12 }) @IsString() @Length(12, 1024) new_password: string;
}

export class TokenPairView {
  @ApiProperty() access_token: string;
  @ApiProperty({ example: 'Bearer' }) token_type: 'Bearer';
  @ApiProperty() expires_in: number;
  @ApiProperty() refresh_token: string;
}

export class MeView {
  @ApiProperty({ enum: ['user', 'service_account'] }) type: string;
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['user', 'service', 'activation', 'external'] }) token_kind: string;
  @ApiProperty() is_staff: boolean;
  @ApiProperty() is_support: boolean;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({
    type: [Object],
    description: 'Its own organization, then those it holds roles in: { id, key, name }.',
  })
  organizations: { id: string; key: string; name: string }[];
  @ApiProperty({
    type: [Object],
    description: 'Live roles from unexpired group memberships: { role, scope_type, scope_id, organization }.',
  })
  roles: Record<string, unknown>[];

  /** The caller, the organizations it belongs to and holds roles in, and its live grants. */
  static of(who: Principal, organizations: MeView['organizations'], grants: readonly Grant[]): MeView {
    return {
      type: who.type,
      id: who.id,
      name: who.name,
      token_kind: who.tokenKind,
      is_staff: who.isStaff,
      is_support: who.isSupport,
      scopes: who.scopes,
      organizations,
      roles: grants.map((g) => ({
        role: g.role,
        scope_type: g.scopeType,
        scope_id: g.scopeId,
        organization: g.organizationId,
      })),
    };
  }
}
