import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags, ApiOperation } from '@nestjs/swagger';
import { IsIn, IsUUID } from 'class-validator';
import { RequirePermission } from './require-permission.decorator';
import type { AppAbility } from './ability';
import { allowedActions } from './access';
import { CurrentAbility } from './current-ability.decorator';
import { Role, ROLES } from './roles';
import { ACTIONS, Action, SCOPE_TYPES, ScopeType, SUBJECT_TYPES, SubjectType } from './subjects';
import { SubjectDirectory } from './subject-directory.service';
import { CommonError } from '../common/errors/common.errors';

const OBJECT_TYPES = SUBJECT_TYPES.filter((t) => t !== 'Self');

class PermissionsQuery {
  @ApiProperty({ enum: OBJECT_TYPES })
  @IsIn(OBJECT_TYPES)
  object_type: SubjectType;

  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  object_id: string;
}

class ObjectPermissionsView {
  @ApiProperty({ enum: OBJECT_TYPES }) object_type: SubjectType;
  @ApiProperty({ format: 'uuid' }) object_id: string;
  @ApiProperty({ enum: ACTIONS, isArray: true, description: 'What the caller may do on the object.' })
  actions: Action[];

  static of(type: SubjectType, id: string, actions: Action[]): ObjectPermissionsView {
    return { object_type: type, object_id: id, actions };
  }
}

class RoleView {
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: SCOPE_TYPES }) scope_type: ScopeType;
  @ApiProperty({
    description: '`action subject` pairs; `all` is every subject of the scope.',
    isArray: true,
    type: String,
  })
  permissions: string[];

  @ApiProperty({
    description: '`action subject` pairs the permissions above cover and the role does not grant (staff only).',
    isArray: true,
    type: String,
  })
  except: string[];

  static of(role: Role): RoleView {
    return {
      name: role.name,
      description: role.description,
      scope_type: role.scopeType,
      permissions: role.permissions.map((p) => `${p.action} ${p.subject}`),
      except: (role.except ?? []).map((p) => `${p.action} ${p.subject}`),
    };
  }
}

@ApiTags('permissions')
@ApiBearerAuth()
@Controller()
export class PermissionsController {
  constructor(private readonly directory: SubjectDirectory) {}

  /** The actions the caller has on one object; 404 when it may not read it. */
  @Get('permissions')
  @ApiOperation({ summary: 'What the caller may do on one object; 404 when it may not read it' })
  @RequirePermission('read', 'Self')
  @ApiOkResponse({ type: ObjectPermissionsView })
  async forObject(@CurrentAbility() ability: AppAbility, @Query() q: PermissionsQuery): Promise<ObjectPermissionsView> {
    const fields = await this.directory.load(q.object_type, q.object_id);
    const actions = fields ? allowedActions(ability, q.object_type, fields) : [];
    if (!actions.includes('read')) throw new CommonError('not_found', `${q.object_type} not found.`);
    return ObjectPermissionsView.of(q.object_type, q.object_id, actions);
  }

  /** The roles a group can hold (roles are code: src/permissions/roles.ts). */
  @Get('roles')
  @ApiOperation({ summary: 'The roles a group can hold, with their permissions' })
  @RequirePermission('read', 'Self')
  @ApiOkResponse({ type: RoleView, isArray: true })
  roles(): RoleView[] {
    return ROLES.map(RoleView.of);
  }
}
