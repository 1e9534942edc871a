import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { Principal } from '../common/auth/principal';
import { PRINCIPAL_KEY } from '../common/decorators/current-principal.decorator';
import { CommonError } from '../common/errors/common.errors';
import type { AppAbility } from './ability';
import { AbilityFactory } from './ability.factory';
import { ABILITY_KEY } from './current-ability.decorator';

type RequestWithAbility = Request & { [PRINCIPAL_KEY]?: Principal; [ABILITY_KEY]?: AppAbility };

/**
 * The request's ability: the one the authorization guard built, or — where the guard is not
 * mounted — built here once and kept on the request the same way. Services still check every
 * object (assertCan) and scope every list (scopeToAbility), so a route served this way is safe.
 */
@Injectable()
export class RequestAbilities {
  constructor(private readonly factory: AbilityFactory) {}

  async of(req: Request): Promise<AppAbility> {
    const r = req as RequestWithAbility;
    if (r[ABILITY_KEY]) return r[ABILITY_KEY];
    const principal = r[PRINCIPAL_KEY];
    if (!principal) throw new CommonError('unauthorized', 'Authentication required.');
    return (r[ABILITY_KEY] = await this.factory.for(principal));
  }
}
