import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { IS_PUBLIC } from '../../common/decorators/public.decorator';
import { PRINCIPAL_KEY } from '../../common/decorators/current-principal.decorator';
import { BearerError } from './bearer-errors';
import { BearerTokenStrategy } from './bearer-token.strategy';

export const ACTIVATION_ONLY = 'campus-access:activation-only';

/**
 * Global: who is calling? Runs the bearer-token Passport strategy and puts the principal on the request.
 * Activation tokens are accepted only by routes marked @ActivationOnly(), and only they accept them.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly bearer: BearerTokenStrategy,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const http = ctx.switchToHttp();
    const req = http.getRequest<Request & Record<string, unknown>>();
    const principal = await this.bearer.principalOf(req, http.getResponse<Response>());
    const activationOnly = this.reflector.getAllAndOverride<boolean>(ACTIVATION_ONLY, targets) ?? false;
    if (activationOnly !== (principal.tokenKind === 'activation')) {
      throw new BearerError(
        activationOnly ? 403 : 401,
        activationOnly ? 'insufficient_scope' : 'invalid_token',
        activationOnly ? 'This route needs an activation token.' : 'This token cannot be used here.',
      );
    }
    req[PRINCIPAL_KEY] = principal;
    return true;
  }
}
