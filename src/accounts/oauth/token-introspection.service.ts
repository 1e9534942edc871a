import { Injectable } from '@nestjs/common';
import { PrincipalLookup, tokenIdentity } from '../auth/principal-lookup';
import { TokenVerifier } from '../auth/token-verifier.service';
import { INTROSPECT_SCOPE } from '../service-accounts/introspect-scope';
import { looksLikeJwt } from './token-revocation.service';

export { INTROSPECT_SCOPE };

export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      scope?: string;
      client_id: string;
      username: string;
      token_type: 'Bearer';
      exp: number;
      iat: number;
      sub: string;
      aud: string | string[];
      iss: string;
      jti: string;
    };

const INACTIVE: IntrospectionResponse = { active: false };

/**
 * RFC 7662 introspection of our access tokens, with exactly the checks a request bearing the token
 * gets: signature, claims, lifetime and key (TokenVerifier), then the principal lookup's one statement
 * (the user or service account still active, the token not revoked). Anything else — expired, revoked,
 * unknown, an external issuer's token, a principal deactivated since, a refresh token — is
 * `{ active: false }`, with nothing said about why. Refresh tokens are only ever held by the first-party
 * client and never presented to a resource server, so none is reported active.
 */
@Injectable()
export class TokenIntrospection {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly principals: PrincipalLookup,
  ) {}

  async introspect(token: string): Promise<IntrospectionResponse> {
    if (!looksLikeJwt(token)) return INACTIVE;
    const verified = await this.verifier.verify(token).catch(() => undefined);
    if (!verified || verified.source !== 'own') return INACTIVE;
    const p = verified.payload;
    const identity = tokenIdentity(p);
    let username: string;
    if (verified.kind === 'service') {
      const sa = await this.principals.activeServiceAccount(String(p.sub), identity);
      if (!sa || sa.revoked || sa.clientId !== p.client_id) return INACTIVE;
      username = sa.clientId;
    } else {
      const user = await this.principals.user(String(p.sub), identity);
      if (!user || user.revoked || (verified.kind === 'user' && !user.isActive)) return INACTIVE;
      username = user.username;
    }
    return {
      active: true,
      ...(typeof p.scope === 'string' && p.scope ? { scope: p.scope } : {}),
      client_id: String(p.client_id),
      username,
      token_type: 'Bearer',
      exp: Number(p.exp),
      iat: Number(p.iat),
      sub: String(p.sub),
      aud: p.aud!,
      iss: p.iss!,
      jti: String(p.jti),
    };
  }
}
