import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsObject, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { ServiceAccount, ServiceAccountSecret } from './service-account.entity';
import { UserHasPermQuery } from '../../permissions/user-has-perm';

export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export class CreateServiceAccountDto {
  @ApiProperty({ format: 'uuid' }) @IsUUID() organization: string;
  @ApiProperty() @IsString() @Length(1, 255) name: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 2000) description?: string;

  @ApiPropertyOptional({ type: [String], description: 'Scopes the client may request (RFC 6749 scope tokens).' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(SCOPE_TOKEN, { each: true, message: 'each scope must be an RFC 6749 scope token' })
  allowed_scopes?: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description:
      'A JWK Set (`{ "keys": [...] }`, 1–10 public RSA or P-256 keys) the client signs its client assertions with (private_key_jwt, RFC 7523). With keys, the client authenticates with them only, never with a secret.',
  })
  @IsOptional()
  @IsObject()
  jwks?: { keys: Record<string, unknown>[] } | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Instead of `jwks`: the https URL where the client publishes its JWK Set.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 2048)
  jwks_uri?: string | null;
}

export class UpdateServiceAccountDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 2000) description?: string;
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(SCOPE_TOKEN, { each: true, message: 'each scope must be an RFC 6749 scope token' })
  allowed_scopes?: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description:
      'A JWK Set (`{ "keys": [...] }`, 1–10 public RSA or P-256 keys) the client signs its client assertions with; `null` removes them (private_key_jwt, RFC 7523). With keys, the client authenticates with them only, never with a secret.',
  })
  @IsOptional()
  @IsObject()
  jwks?: { keys: Record<string, unknown>[] } | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Instead of `jwks`: the https URL where the client publishes its JWK Set.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 2048)
  jwks_uri?: string | null;
}

export class ServiceAccountQuery extends UserHasPermQuery {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() organization?: string;
}

export class SecretView {
  @ApiProperty() id: string;
  @ApiProperty({ description: 'First characters of the secret, to tell secrets apart.' }) prefix: string;
  @ApiProperty() created: string;
  @ApiProperty({ nullable: true, type: String }) expires_at: string | null;

  static of(s: ServiceAccountSecret): SecretView {
    return {
      id: s.id,
      prefix: s.prefix,
      created: s.createdAt.toISOString(),
      expires_at: s.expiresAt?.toISOString() ?? null,
    };
  }
}

export class ServiceAccountView {
  @ApiProperty() id: string;
  @ApiProperty() organization: string;
  @ApiProperty() client_id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: [String] }) allowed_scopes: string[];
  @ApiProperty() is_active: boolean;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'Registered public keys.' })
  jwks: { keys: Record<string, unknown>[] } | null;
  @ApiProperty({ type: String, nullable: true }) jwks_uri: string | null;
  @ApiProperty({ type: [SecretView], description: 'Live secrets (never their values).' }) secrets: SecretView[];
  @ApiProperty() created: string;

  static of(a: ServiceAccount, secrets: ServiceAccountSecret[]): ServiceAccountView {
    return {
      id: a.id,
      organization: a.organizationId,
      client_id: a.clientId,
      name: a.name,
      description: a.description,
      allowed_scopes: a.allowedScopes,
      is_active: a.isActive,
      jwks: a.jwks ?? null,
      jwks_uri: a.jwksUri ?? null,
      secrets: secrets.map(SecretView.of),
      created: a.createdAt.toISOString(),
    };
  }
}

export class ServiceAccountWithSecretView extends ServiceAccountView {
  @ApiPropertyOptional({
    description: 'Shown once; store it now. Only its SHA-256 hash is kept. None for a client created with keys.',
  })
  client_secret?: string;
}
