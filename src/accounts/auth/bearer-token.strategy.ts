import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Passport, PassportStatic, Strategy } from 'passport';
import { ExtractJwt } from 'passport-jwt';
import type { Principal } from '../../common/auth/principal';
import { ExternalUsersService } from '../external/external-users.service';
import { BearerError } from './bearer-errors';
import { PrincipalLookup, serviceAccountPrincipal, tokenIdentity, userPrincipal } from './principal-lookup';
import { ACTIVATION_SCOPE } from './token-issuer.service';
import { TokenVerifier } from './token-verifier.service';

const BEARER_STRATEGY = 'campus-access-bearer';

/**
 * `Authorization: Bearer <token>`, or `Authorization: JWT <token>` as Open edX clients (Registrar's
 * among them) send it: the same token, verified the same way.
 */
const extractBearer = ExtractJwt.fromExtractors([
  ExtractJwt.fromAuthHeaderAsBearerToken(),
  ExtractJwt.fromAuthHeaderWithScheme('JWT'),
]);

type Verify = (token: string, done: (err: unknown, principal?: Principal) => void) => void;

/**
 * A Passport strategy for `Authorization: Bearer` (or `JWT`) JWTs: passport-jwt's extractor takes the token from the
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
    private readonly principals: PrincipalLookup,
    private readonly externalUsers: ExternalUsersService,
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
          reject(
            challenge instanceof BearerError
              ? challenge
              : new BearerError(401, 'unauthorized', 'Authentication required.'),
          );
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
      return {
        type: 'user',
        id: user.id,
        name: user.username,
        tokenKind: 'external',
        scopes: [],
        isStaff: user.isStaff,
        isSupport: user.isSupport,
      };
    }
    const scopes = typeof p.scope === 'string' && p.scope ? p.scope.split(' ') : [];
    const identity = tokenIdentity(p);
    if (verified.kind === 'service') {
      const sa = await this.principals.activeServiceAccount(String(p.sub), identity);
      if (!sa || sa.clientId !== p.client_id) throw new BearerError(401, 'invalid_token', 'The client is deactivated.');
      if (sa.revoked) throw new BearerError(401, 'invalid_token', 'The token has been revoked.');
      return serviceAccountPrincipal(sa, scopes);
    }
    const user = await this.principals.user(String(p.sub), identity);
    if (user?.revoked) throw new BearerError(401, 'invalid_token', 'The token has been revoked.');
    if (verified.kind === 'activation') {
      if (!user || scopes.join(' ') !== ACTIVATION_SCOPE)
        throw new BearerError(401, 'invalid_token', 'The activation token is not valid.');
      return {
        type: 'user',
        id: user.id,
        name: user.username,
        tokenKind: 'activation',
        scopes,
        isStaff: false,
        isSupport: false,
        activationRecordId: String(p.act ?? ''),
      };
    }
    if (!user || !user.isActive) throw new BearerError(401, 'invalid_token', 'The user is deactivated.');
    // An LTI session is the user's own rights; only its kind differs (no password change with it).
    return verified.kind === 'lti' ? { ...userPrincipal(user, scopes), tokenKind: 'lti' } : userPrincipal(user, scopes);
  }
}
