import { CanActivate, ClassProvider, ExecutionContext, Injectable } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { PinoLogger } from 'nestjs-pino';
import type { Principal } from '../common/auth/principal';
import { PRINCIPAL_KEY } from '../common/decorators/current-principal.decorator';
import { IS_PUBLIC } from '../common/decorators/public.decorator';
import { REQUIRED_PERMISSION, RequiredPermission } from './require-permission.decorator';
import { CommonError } from '../common/errors/common.errors';
import type { AppAbility } from './ability';
import { AbilityFactory } from './ability.factory';
import { ABILITY_KEY } from './current-ability.decorator';

type AuthorizedRequest = Request & { [PRINCIPAL_KEY]?: Principal; [ABILITY_KEY]?: AppAbility };

/** What a route declares: public, a permission, or nothing (which is refused). */
export function routeDeclaration(
  reflector: Reflector,
  handler: object,
  controller: object,
): 'public' | RequiredPermission | null {
  const targets = [handler, controller] as Parameters<Reflector['getAllAndOverride']>[1];
  if (reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return 'public';
  return reflector.getAllAndOverride<RequiredPermission | undefined>(REQUIRED_PERMISSION, targets) ?? null;
}

/**
 * Global, after authentication: may the caller do this? Deny by default — a route must carry
 * @RequirePermission(action, subject) or @Public(); one with neither is refused and logged.
 * The ability is built once per request and kept on it (see @CurrentAbility()). The check here is
 * per subject type ("in at least one scope"); services check the object with requireAccess(), which
 * every route on one object must call — the guard lets such a route through when the caller reads
 * objects of the type, so that the service answers 404 or 403 for that object.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly abilities: AbilityFactory,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(AuthorizationGuard.name);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const declared = routeDeclaration(this.reflector, ctx.getHandler(), ctx.getClass());
    if (declared === 'public') return true;
    const req = ctx.switchToHttp().getRequest<AuthorizedRequest>();
    if (declared === null) {
      this.logger.error(
        { method: req.method, path: req.originalUrl, handler: `${ctx.getClass().name}.${ctx.getHandler().name}` },
        'route has neither @RequirePermission() nor @Public(): refused',
      );
      throw new CommonError('forbidden', 'This route declares no permission and is refused.');
    }
    const principal = req[PRINCIPAL_KEY];
    if (!principal) throw new CommonError('unauthorized', 'Authentication required.');
    const ability = (req[ABILITY_KEY] ??= await this.abilities.for(principal));
    if (ability.can(declared.action, declared.subject)) return true;
    // A route on one object (it has path parameters) must not answer 403 for an object the caller
    // cannot see. If the caller reads some objects of the type, only the service's requireAccess() can
    // tell "unseen" (404) from "seen, not allowed" (403); if it reads none, the object is unseen.
    if (Object.keys(req.params ?? {}).length > 0) {
      if (ability.can('read', declared.subject)) return true;
      throw new CommonError('not_found', `${declared.subject} not found.`);
    }
    throw new CommonError(
      'forbidden',
      `You may not ${declared.action.replace(/_/g, ' ')} ${declared.subject} objects.`,
      {
        action: declared.action,
        subject: declared.subject,
      },
    );
  }
}

/**
 * The global registration of the guard; AuthorizationModule holds it. Nest runs APP_GUARD providers
 * in registration order, so wherever it is placed it must come after the authentication guard's.
 */
export const AUTHORIZATION_GUARD: ClassProvider = { provide: APP_GUARD, useClass: AuthorizationGuard };
