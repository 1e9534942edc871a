import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ExtractJwt } from 'passport-jwt';
import type { Principal } from '../../common/auth/principal';
import { IS_PUBLIC } from '../../common/decorators/public.decorator';
import { PRINCIPAL_KEY } from '../../common/decorators/current-principal.decorator';
import { ExternalUsersService } from '../external/external-users.service';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { plainQuery, statementName } from '../../database/plain-query';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { BearerError } from './bearer-errors';
import { ACTIVATION_SCOPE } from './token-issuer.service';
import { TokenVerifier } from './token-verifier.service';

export const ACTIVATION_ONLY = 'campus-access:activation-only';

const extractBearer = ExtractJwt.fromAuthHeaderAsBearerToken();

/**
 * Global: who is calling? Verifies the bearer token and puts the principal on the request.
 * Activation tokens are accepted only by routes marked @ActivationOnly(), and only they accept them.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly externalUsers: ExternalUsersService,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & Record<string, unknown>>();
    const token = extractBearer(req);
    if (!token) throw new BearerError(401, 'unauthorized', 'Authentication required.');
    const principal = await this.principalFor(token);
    const activationOnly = this.reflector.getAllAndOverride<boolean>(ACTIVATION_ONLY, targets) ?? false;
    if (activationOnly !== (principal.tokenKind === 'activation')) {
      throw new BearerError(activationOnly ? 403 : 401, activationOnly ? 'insufficient_scope' : 'invalid_token', activationOnly ? 'This route needs an activation token.' : 'This token cannot be used here.');
    }
    req[PRINCIPAL_KEY] = principal;
    return true;
  }

  private async principalFor(token: string): Promise<Principal> {
    const verified = await this.verifier.verify(token);
    const p = verified.payload;
    if (verified.source === 'external') {
      const user = await this.externalUsers.provision(verified.issuer, p);
      if (!user.isActive) throw new BearerError(401, 'invalid_token', 'The user is deactivated.');
      return { type: 'user', id: user.id, name: user.username, tokenKind: 'external', scopes: [], isStaff: user.isStaff, isSupport: user.isSupport };
    }
    const scopes = typeof p.scope === 'string' && p.scope ? p.scope.split(' ') : [];
    if (verified.kind === 'service') {
      // Plain queries of the few columns needed: this runs on every request.
      const [sa] = await plainQuery<{ id: string; clientId: string; organizationId: string }>(
        this.dataSource,
        'SELECT id, client_id AS "clientId", organization_id AS "organizationId" FROM service_accounts WHERE id = $1 AND is_active',
        [p.sub],
        statementName(this.settings, 'campus_access_principal_service_account'),
      );
      if (!sa || sa.clientId !== p.client_id) throw new BearerError(401, 'invalid_token', 'The client is deactivated.');
      return { type: 'service_account', id: sa.id, name: sa.clientId, tokenKind: 'service', scopes, isStaff: false, isSupport: false, organizationId: sa.organizationId };
    }
    const [user] = await plainQuery<{ id: string; username: string; isActive: boolean; isStaff: boolean; isSupport: boolean; organizationId: string | null }>(
      this.dataSource,
      'SELECT id, username, is_active AS "isActive", is_staff AS "isStaff", is_support AS "isSupport", organization_id AS "organizationId" FROM users WHERE id = $1',
      [p.sub],
      statementName(this.settings, 'campus_access_principal_user'),
    );
    if (verified.kind === 'activation') {
      if (!user || scopes.join(' ') !== ACTIVATION_SCOPE) throw new BearerError(401, 'invalid_token', 'The activation token is not valid.');
      return { type: 'user', id: user.id, name: user.username, tokenKind: 'activation', scopes, isStaff: false, isSupport: false, activationRecordId: String(p.act ?? '') };
    }
    if (!user || !user.isActive) throw new BearerError(401, 'invalid_token', 'The user is deactivated.');
    return { type: 'user', id: user.id, name: user.username, tokenKind: 'user', scopes, isStaff: user.isStaff, isSupport: user.isSupport, organizationId: user.organizationId ?? undefined };
  }
}
