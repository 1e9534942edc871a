import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { InjectDataSource } from '@nestjs/typeorm';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Passport, PassportStatic, Strategy } from 'passport';
import { ExtractJwt } from 'passport-jwt';
import { DataSource } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { plainQuery, statementName } from '../../database/plain-query';
import { ExternalUsersService } from '../external/external-users.service';
import { BearerError } from './bearer-errors';
import { ACTIVATION_SCOPE } from './token-issuer.service';
import { TokenVerifier } from './token-verifier.service';

const BEARER_STRATEGY = 'campus-access-bearer';

const extractBearer = ExtractJwt.fromAuthHeaderAsBearerToken();

type Verify = (token: string, done: (err: unknown, principal?: Principal) => void) => void;

/**
 * A Passport strategy for `Authorization: Bearer` JWTs: passport-jwt's extractor takes the token from the
 * request and hands it to `verify`, which does all the JOSE work with jose (TokenVerifier). A request
 * without a token fails with 401 `unauthorized`; a refused token, with the verifier's BearerError.
 */
class BearerJwtStrategy extends Strategy {
  constructor(private readonly verify: Verify) {
    super();
  }

  override authenticate(req: IncomingMessage): void {
    const token = extractBearer(req as Parameters<typeof extractBearer>[0]);
    if (!token) return this.fail(new BearerError(401, 'unauthorized', 'Authentication required.'));
    this.verify(token, (err, principal) => (err ? this.error(err) : this.success(principal as Express.User)));
  }
}

/** Each application's own Passport: strategies on the global one would serve every application of the process. */
const passports = new WeakMap<object, PassportStatic>();

/** Who is calling: the principal of a bearer token, user or service account, looked up on every request. */
@Injectable()
export class BearerTokenStrategy extends PassportStrategy(BearerJwtStrategy, BEARER_STRATEGY) {
  constructor(
    private readonly verifier: TokenVerifier,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly externalUsers: ExternalUsersService,
    @InjectSettings() private readonly settings: Settings,
  ) {
    super();
  }

  getPassportInstance(): PassportStatic {
    let passport = passports.get(this);
    if (!passport) passports.set(this, (passport = new Passport() as PassportStatic));
    return passport;
  }

  /** The principal of the request's bearer token; rejects with a BearerError when there is none or it is refused. */
  principalOf(req: IncomingMessage, res: ServerResponse): Promise<Principal> {
    return new Promise<Principal>((resolve, reject) => {
      const authenticate = this.getPassportInstance().authenticate(
        BEARER_STRATEGY,
        { session: false },
        (err: unknown, principal: Principal | false, challenge: unknown) => {
          if (err) return reject(err);
          if (principal) return resolve(principal);
          reject(challenge instanceof BearerError ? challenge : new BearerError(401, 'unauthorized', 'Authentication required.'));
        },
      ) as (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
      authenticate(req, res, (err) => reject(err ?? new BearerError(401, 'unauthorized', 'Authentication required.')));
    });
  }

  /** Called by Passport with the extracted token. */
  async validate(token: string): Promise<Principal> {
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
