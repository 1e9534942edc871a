import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import type { WhereExpressionBuilder } from 'typeorm';
import { PageQuery } from '../common/pagination/pagination';
import type { AppAbility } from './ability';
import { scopeToAbility, SqlScopeOptions } from './ability-to-sql';
import { PermissionsError } from './permissions.errors';
import { ACTIONS, Action, isAction, SubjectType } from './subjects';

/** `?page=&page_size=&user_has_perm=ACTION`: extend it for lists that offer the filter. */
export class UserHasPermQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ACTIONS, description: 'Only objects on which the caller may do this action.' })
  @IsOptional()
  @IsIn(ACTIONS)
  user_has_perm?: Action;
}

/**
 * The one scope of a list: the rows the caller may read and, with `?user_has_perm=ACTION`, may also
 * do that action on. Every scoped list calls it on its query builder:
 *   scopeList(qb, ability, q.user_has_perm, 'Project', 'p');
 */
export function scopeList<Q extends WhereExpressionBuilder>(
  qb: Q,
  ability: AppAbility,
  userHasPerm: string | undefined,
  subjectType: SubjectType,
  alias: string,
  options?: SqlScopeOptions,
): Q {
  scopeToAbility(qb, ability, 'read', subjectType, alias, options);
  return scopeToUserHasPerm(qb, ability, userHasPerm, subjectType, alias, options);
}

/**
 * Applies `?user_has_perm=ACTION` to a list query already scoped to what the caller may read:
 *   scopeToAbility(qb, ability, 'read', 'Project', 'p');
 *   scopeToUserHasPerm(qb, ability, q.user_has_perm, 'Project', 'p');
 * No value: the query is unchanged. An unknown action: 400 `invalid_permission`.
 */
export function scopeToUserHasPerm<Q extends WhereExpressionBuilder>(
  qb: Q,
  ability: AppAbility,
  userHasPerm: string | undefined,
  subjectType: SubjectType,
  alias: string,
  options?: SqlScopeOptions,
): Q {
  if (userHasPerm === undefined || userHasPerm === '') return qb;
  if (!isAction(userHasPerm)) {
    throw new PermissionsError('invalid_permission', `Unknown action "${userHasPerm}".`, { known: ACTIONS });
  }
  return scopeToAbility(qb, ability, userHasPerm, subjectType, alias, options);
}
