import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEmail, IsIn, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { User, UserKind } from './user.entity';
import { UserHasPermQuery } from '../../permissions/user-has-perm';

export const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,149}$/;
const KINDS: UserKind[] = ['person', 'course_account', 'lti', 'external'];

export class CreateUserDto {
  @ApiProperty({ example: 'ab123' })
  @IsString()
  @Matches(USERNAME, { message: 'username may contain letters, digits and . _ @ + - (1–150 characters)' })
  username: string;

  @ApiPropertyOptional() @IsOptional() @IsEmail() email?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 150) first_name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 150) last_name?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Organization the user belongs to (required unless staff creates a global user).',
  })
  @IsOptional()
  @IsUUID()
  organization?: string;

  @ApiPropertyOptional({
    description: 'Initial password (12+ characters). Without it the user activates or logs in another way.',
  })
  @IsOptional()
  @IsString()
  @Length(12, 1024)
  password?: string;

  @ApiPropertyOptional({ description: 'Staff only.' }) @IsOptional() @IsBoolean() is_staff?: boolean;
  @ApiPropertyOptional({ description: 'Staff only.' }) @IsOptional() @IsBoolean() is_support?: boolean;
}

export class UpdateUserDto {
  @ApiPropertyOptional() @IsOptional() @IsEmail() email?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 150) first_name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 150) last_name?: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() is_active?: boolean;
  @ApiPropertyOptional({ description: 'Staff only.' }) @IsOptional() @IsBoolean() is_staff?: boolean;
  @ApiPropertyOptional({ description: 'Staff only.' }) @IsOptional() @IsBoolean() is_support?: boolean;
}

export class UserQuery extends UserHasPermQuery {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() organization?: string;
  @ApiPropertyOptional({ enum: KINDS }) @IsOptional() @IsIn(KINDS) kind?: UserKind;
  @ApiPropertyOptional({ description: 'username, email or name contains (case-insensitive)' })
  @IsOptional()
  @IsString()
  search?: string;
}

export class UserView {
  @ApiProperty() id: string;
  @ApiProperty() username: string;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty() first_name: string;
  @ApiProperty() last_name: string;
  @ApiProperty() is_active: boolean;
  @ApiProperty() is_staff: boolean;
  @ApiProperty() is_support: boolean;
  @ApiProperty({ enum: KINDS }) kind: UserKind;
  @ApiProperty({ nullable: true, type: String }) organization: string | null;
  @ApiProperty() created: string;

  static of(u: User): UserView {
    return {
      id: u.id,
      username: u.username,
      email: u.email,
      first_name: u.firstName,
      last_name: u.lastName,
      is_active: u.isActive,
      is_staff: u.isStaff,
      is_support: u.isSupport,
      kind: u.kind,
      organization: u.organizationId,
      created: u.createdAt.toISOString(),
    };
  }
}
