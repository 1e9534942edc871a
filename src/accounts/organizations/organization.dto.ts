import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { Organization } from './organization.entity';
import { UserHasPermQuery } from '../../permissions/user-has-perm';

export const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export class CreateOrganizationDto {
  @ApiProperty({ example: 'engineering', description: 'Unique slug: lower-case letters, digits, hyphens.' })
  @IsString()
  @Matches(SLUG, { message: 'key must be a slug (a-z, 0-9, -; 1–64 characters)' })
  key: string;

  @ApiProperty({ example: 'Department of Engineering' })
  @IsString()
  @Length(1, 255)
  name: string;
}

export class UpdateOrganizationDto extends PartialType(CreateOrganizationDto) {}

export class OrganizationQuery extends UserHasPermQuery {
  @ApiPropertyOptional({ description: 'Filter by key or name (case-insensitive contains).' })
  @IsOptional()
  @IsString()
  search?: string;
}

export class OrganizationView {
  @ApiProperty() id: string;
  @ApiProperty() key: string;
  @ApiProperty() name: string;
  @ApiProperty() created: string;
  @ApiProperty() modified: string;

  static of(o: Organization): OrganizationView {
    return {
      id: o.id,
      key: o.key,
      name: o.name,
      created: o.createdAt.toISOString(),
      modified: o.updatedAt.toISOString(),
    };
  }
}
