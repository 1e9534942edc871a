import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Length, ValidateIf } from 'class-validator';

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
}
