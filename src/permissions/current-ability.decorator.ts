import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AppAbility } from './ability';

/** Where the authorization guard keeps the request's ability (built once per request). */
export const ABILITY_KEY = 'ability';

/** The request's CASL ability, for object checks (`requireAccess`) and list scoping (`scopeToAbility`). */
export const CurrentAbility = createParamDecorator((_: unknown, ctx: ExecutionContext): AppAbility => {
  const ability = ctx.switchToHttp().getRequest()[ABILITY_KEY];
  // Only reachable on a @Public() route, where no ability is built: a programming error.
  if (!ability) throw new Error('@CurrentAbility() on a route without @RequirePermission()');
  return ability;
});
