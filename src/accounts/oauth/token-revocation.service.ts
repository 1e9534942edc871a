import { Injectable } from '@nestjs/common';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { AuditService } from '../audit/audit.service';
import { denyAccessTokens } from '../auth/access-token-deny-list';
import { revokeRefreshTokenFamily } from '../auth/refresh-tokens.repository';
import { sha256Hex } from '../../common/crypto/secrets';
import { FIRST_PARTY_CLIENT_ID } from '../auth/token-issuer.service';
import { TokenVerifier } from '../auth/token-verifier.service';
import { OAuthError } from './oauth-error';
import { queryRows } from '../../database/query';
import { TransactionRunner } from '../../database/transaction';

/** Who asks for a revocation: a service account that authenticated, or the first-party public client. */
export interface RevokingClient {
  clientId: string;
  /** Set when a service account authenticated. */
  serviceAccountId?: string;
  organizationId?: string;
}

/** A JWS compact serialization has three parts; our refresh tokens are opaque base64url. */
export const looksLikeJwt = (token: string) => token.split('.').length === 3;

/**
 * RFC 7009 token revocation. A refresh token ends its family (the session) and the session's access
 * tokens; an access token (a JWT of ours) goes on the deny list by `jti` until its `exp`. Tokens we do not
 * know, that expired or that were already revoked need nothing and are answered as a success, as the RFC
 * asks. A token issued to another client than the one asking is refused (`unauthorized_client`).
 */
@Injectable()
export class TokenRevocation {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly verifier: TokenVerifier,
    private readonly audit: AuditService,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  async revoke(token: string, client: RevokingClient, ip: string): Promise<void> {
    if (looksLikeJwt(token)) return this.revokeAccessToken(token, client, ip);
    return this.revokeRefreshToken(token, client, ip);
  }

  private async revokeAccessToken(token: string, client: RevokingClient, ip: string): Promise<void> {
    const verified = await this.verifier.verify(token).catch(() => undefined);
    // Not ours, not valid or expired: nothing can use it, nothing to do.
    if (!verified || verified.source !== 'own') return;
    const p = verified.payload;
    if (p.client_id !== client.clientId) throw notYours();
    const expiresAt = new Date((Number(p.exp) + this.settings.JWT_CLOCK_SKEW_SECONDS) * 1000);
    await this.transactions.run(async (tx) => {
      if (!(await denyAccessTokens(tx, [String(p.jti)], expiresAt))) return;
      await this.audit.record(
        {
          action: 'oauth.token_revoked',
          actor: actorOf(client, String(p.sub), verified.kind),
          subjectType: verified.kind === 'service' ? 'ServiceAccount' : 'User',
          subjectId: String(p.sub),
          organizationId: typeof p.org === 'string' ? p.org : undefined,
          data: { token_type: 'access_token', kind: verified.kind, jti: p.jti, client_id: client.clientId },
          ip,
        },
        tx,
      );
    });
  }

  private async revokeRefreshToken(token: string, client: RevokingClient, ip: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      const [known]: unknown[] = await queryRows(tx, 'SELECT 1 FROM refresh_tokens WHERE token_hash = $1', [
        sha256Hex(token),
      ]);
      if (!known) return;
      // Refresh tokens are issued by /auth/login, to the first-party client only.
      if (client.clientId !== FIRST_PARTY_CLIENT_ID) throw notYours();
      const ended = await revokeRefreshTokenFamily(
        tx,
        token,
        this.settings.ACCESS_TOKEN_TTL_SECONDS + this.settings.JWT_CLOCK_SKEW_SECONDS,
      );
      if (!ended?.revoked) return;
      await this.audit.record(
        {
          action: 'oauth.token_revoked',
          actor: { type: 'user', id: ended.userId } as never,
          subjectType: 'User',
          subjectId: ended.userId,
          data: { token_type: 'refresh_token', family_id: ended.familyId, sessions_revoked: 1 },
          ip,
        },
        tx,
      );
    });
  }
}

function notYours(): OAuthError {
  return new OAuthError('unauthorized_client', 'The token was not issued to this client.');
}

/** The audit actor: the service account that authenticated, else the holder of the token (its subject). */
function actorOf(client: RevokingClient, sub: string, kind: string) {
  if (client.serviceAccountId) return { type: 'service_account', id: client.serviceAccountId } as never;
  return (kind === 'service' ? { type: 'anonymous' } : { type: 'user', id: sub }) as never;
}
