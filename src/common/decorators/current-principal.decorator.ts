import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Principal } from '../auth/principal';

export const PRINCIPAL_KEY = 'principal';

/** The authenticated principal of the request (set by the authentication guard). */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest()[PRINCIPAL_KEY],
);
