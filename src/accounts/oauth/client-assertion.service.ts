import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors as joseErrors, JSONWebKeySet, jwtVerify } from 'jose';
import { DataSource } from 'typeorm';
import { setBounded } from '../../common/collections/bounded-map';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { CLIENT_ASSERTION_ALGORITHMS } from '../service-accounts/client-keys';
import { AuthenticatedClient, ServiceAccountsService } from '../service-accounts/service-accounts.service';
import { queryRows } from '../../database/query';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The longest an assertion may still be valid when it arrives: "exp required and short". */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
/** Remote JWK Sets kept per replica at most. */
const REMOTE_JWKS_MAX = 1_000;
const PURGE_BATCH = 100;

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;

/** Why an assertion was refused, for the audit log (never for the client, which gets `invalid_client`). */
export type AssertionFailure =
  'malformed' | 'unknown_client' | 'signature' | 'claims' | 'expired' | 'too_long' | 'replayed' | 'keys_unavailable';

/**
 * private_key_jwt client authentication (RFC 7523 §2.2, §3): a JWT signed RS256 or ES256 with a key the
 * service account registered (a JWK Set, or its JWKS URL, fetched and cached like trusted issuers' keys),
 * `iss` = `sub` = its client id, `aud` naming our issuer or the endpoint, `exp` required and at most
 * MAX_ASSERTION_LIFETIME_SECONDS ahead, and a `jti` used only once (kept in PostgreSQL until the
 * assertion expires, so a replay is refused on every replica).
 */
@Injectable()
export class ClientAssertionVerifier {
  private readonly remote = new Map<string, RemoteJwks>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly serviceAccounts: ServiceAccountsService,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** The client id an assertion claims (its `sub`, else `iss`), unverified: for the audit of a failure. */
  claimedClientId(assertion: string): string | undefined {
    try {
      const { sub, iss } = decodeJwt(assertion);
      const id = sub ?? iss;
      return typeof id === 'string' ? id.slice(0, 64) : undefined;
    } catch {
      return undefined;
    }
  }

  async verify(
    assertion: string,
    audiences: string[],
  ): Promise<{ client: AuthenticatedClient } | { failure: AssertionFailure }> {
    const clientId = this.claimedClientId(assertion);
    if (!clientId) return { failure: 'malformed' };
    const found = await this.serviceAccounts.assertionClient(clientId);
    if (!found) return { failure: 'unknown_client' };
    const keys = found.jwks
      ? createLocalJWKSet(found.jwks as unknown as JSONWebKeySet)
      : this.remoteJwks(found.jwksUri!);
    const skew = this.settings.JWT_CLOCK_SKEW_SECONDS;
    let exp: number;
    let jti: string;
    try {
      const { payload } = await jwtVerify(assertion, keys, {
        issuer: clientId,
        subject: clientId,
        audience: audiences,
        algorithms: CLIENT_ASSERTION_ALGORITHMS,
        clockTolerance: skew,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
      });
      exp = payload.exp!;
      jti = String(payload.jti);
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) return { failure: 'expired' };
      if (e instanceof joseErrors.JWTClaimValidationFailed || e instanceof joseErrors.JWTInvalid)
        return { failure: 'claims' };
      if (e instanceof joseErrors.JWKSTimeout || e instanceof joseErrors.JWKSInvalid)
        return { failure: 'keys_unavailable' };
      return { failure: 'signature' };
    }
    if (exp > Date.now() / 1000 + MAX_ASSERTION_LIFETIME_SECONDS + skew) return { failure: 'too_long' };
    if (jti.length > 255) return { failure: 'claims' };
    if (!(await this.useJti(clientId, jti, exp + skew))) return { failure: 'replayed' };
    return { client: found.client };
  }

  /** Records the jti; false when it was used before. Drops a batch of expired ones on the way. */
  private async useJti(clientId: string, jti: string, until: number): Promise<boolean> {
    await queryRows(
      this.dataSource,
      `DELETE FROM client_assertion_jtis WHERE id IN
         (SELECT id FROM client_assertion_jtis WHERE expires_at < now() ORDER BY expires_at LIMIT ${PURGE_BATCH})`,
    );
    const rows: unknown[] = await queryRows(
      this.dataSource,
      `INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, to_timestamp($3))
       ON CONFLICT (client_id, jti) DO NOTHING RETURNING id`,
      [clientId, jti, until],
    );
    return rows.length === 1;
  }

  private remoteJwks(uri: string): RemoteJwks {
    let jwks = this.remote.get(uri);
    if (!jwks) {
      jwks = createRemoteJWKSet(new URL(uri), {
        cacheMaxAge: this.settings.JWKS_CACHE_TTL_SECONDS * 1000,
        cooldownDuration: this.settings.JWKS_REFETCH_INTERVAL_SECONDS * 1000,
        timeoutDuration: 5000,
      });
      setBounded(this.remote, uri, jwks, REMOTE_JWKS_MAX);
    }
    return jwks;
  }
}
