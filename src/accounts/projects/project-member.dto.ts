import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import type { PrincipalType } from '../../common/auth/principal';
import { PageQuery } from '../../common/pagination/pagination';
import { ROLES } from '../../permissions/roles';
import type { ProjectMemberRow } from './project-members.repository';

const PROJECT_ROLES = ROLES.filter((r) => r.scopeType === 'project').map((r) => r.name);
const PRINCIPAL_TYPES: PrincipalType[] = ['user', 'service_account'];

export class ProjectMemberQuery extends PageQuery {
  @ApiPropertyOptional({ enum: PROJECT_ROLES, description: 'Only members holding this role in the project.' })
  @IsOptional()
  @IsIn(PROJECT_ROLES)
  role?: string;
}

export class ProjectMemberRoleView {
  @ApiProperty({ enum: PROJECT_ROLES }) role: string;
  @ApiProperty({ format: 'uuid', description: 'The project group that gives the role.' }) group: string;
  @ApiProperty() group_name: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) expires_at: string | null;
}

export class ProjectMemberView {
  @ApiProperty({ enum: PRINCIPAL_TYPES }) principal_type: PrincipalType;
  @ApiProperty({ format: 'uuid' }) principal_id: string;
  @ApiProperty({ nullable: true, type: String, description: 'A user’s username (null for a service account).' })
  username: string | null;
  @ApiProperty({ nullable: true, type: String }) first_name: string | null;
  @ApiProperty({ nullable: true, type: String }) last_name: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Only to a caller who may read the user (GET /api/v1/users/{id}); null otherwise.',
  })
  email: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'A service account’s name (null for a user).' })
  name: string | null;
  @ApiProperty({ type: [ProjectMemberRoleView], description: 'Its live memberships of the project’s groups.' })
  roles: ProjectMemberRoleView[];

  static of(row: ProjectMemberRow): ProjectMemberView {
    return {
      principal_type: row.principal_type,
      principal_id: row.principal_id,
      username: row.username,
      first_name: row.first_name,
      last_name: row.last_name,
      email: row.email,
      name: row.name,
      roles: row.roles.map((r) => ({
        role: r.role,
        group: r.group,
        group_name: r.group_name,
        expires_at: r.expires_at === null ? null : new Date(r.expires_at).toISOString(),
      })),
    };
  }
}
