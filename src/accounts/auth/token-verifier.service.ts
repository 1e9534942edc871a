import { Injectable } from '@nestjs/common';
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  importJWK,
  importSPKI,
  JWTPayload,
  JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { setBounded } from '../../common/collections/bounded-map';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { parseTrustedIssuers, TrustedIssuerConfig } from '../external/trusted-issuers';
import { SigningKeysService } from '../keys/signing-keys.service';
import { BearerError } from './bearer-errors';
import { OwnTokenKind, TokenIssuer } from './token-issuer.service';

export type VerifiedToken =
  | { source: 'own'; kind: OwnTokenKind; payload: JWTPayload & Record<string, unknown> }
  | { source: 'external'; issuer: TrustedIssuerConfig; payload: JWTPayload & Record<string, unknown> };

type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

const OWN_ALGORITHMS = ['RS256', 'ES256'];
/** Our tokens whose signature and claims were checked recently, kept until they expire; the oldest go first. */
const VERIFIED_CACHE_MAX = 10_000;
const OWN_KINDS: readonly string[] = ['user', 'service', 'activation', 'lti'];

function invalid(message: string): BearerError {
  return new BearerError(401, 'invalid_token', message);
}

function describeJoseError(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'The token has expired.';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `The token's ${e.claim} claim is not acceptable.`;
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'The token signature is not valid.';
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'The token algorithm is not allowed.';
  if (e instanceof joseErrors.JWKSNoMatchingKey) return 'The token was signed with an unknown key.';
  if (e instanceof joseErrors.JWKSTimeout) return 'The issuer keys could not be fetched in time.';
  if (e instanceof BearerError) return e.message;
  return 'The token is not valid.';
}

/**
 * A `public_key_pem` issuer's key, imported for the algorithm the token names (jose has already checked
 * it against the issuer's allow-list): importing it for the first listed algorithm would fail for an EC
 * key under the default `[RS256, ES256]`.
 */
function staticKeyResolver(pem: string): JWTVerifyGetKey {
  const imported = new Map<string, Promise<VerifyKey>>();
  return (header) => {
    let key = imported.get(header.alg);
    if (!key) imported.set(header.alg, (key = importSPKI(pem, header.alg)));
    return key;
  };
}

/**
 * Verifies bearer tokens: ours (pinned algorithms, iss, aud, exp, typ at+jwt, a kid we publish now, a
 * lifetime no longer than its kind's) and those of trusted external issuers (their JWKS, cached, refetched
 * at most once per interval on an unknown kid).
 */
@Injectable()
export class TokenVerifier {
  private readonly trusted = new Map<
    string,
    { config: TrustedIssuerConfig; key: JWTVerifyGetKey | VerifyKey | Promise<VerifyKey> }
  >();
  private readonly importedOwnKeys = new Map<string, VerifyKey | Uint8Array>();
  /**
   * Our own tokens already verified, by their exact text, until `exp` (plus the clock skew) or until their
   * key is retired: a client sends the same token many times and its signature cannot have changed. What
   * the token grants is still looked up on every request (a deactivated user is refused at once). External
   * tokens are not kept: their issuer may withdraw a key at any time.
   */
  private readonly verifiedOwn = new Map<
    string,
    { kind: OwnTokenKind; kid: string; payload: JWTPayload & Record<string, unknown>; until: number }
  >();

  constructor(
    private readonly keys: SigningKeysService,
    private readonly issuerInfo: TokenIssuer,
    @InjectSettings() private readonly settings: Settings,
  ) {
    for (const config of parseTrustedIssuers(settings.TRUSTED_ISSUERS)) {
      const key = config.jwksUri
        ? createRemoteJWKSet(new URL(config.jwksUri), {
            cacheMaxAge: settings.JWKS_CACHE_TTL_SECONDS * 1000,
            cooldownDuration: settings.JWKS_REFETCH_INTERVAL_SECONDS * 1000,
            timeoutDuration: 5000,
          })
        : staticKeyResolver(config.publicKeyPem!);
      this.trusted.set(config.issuer, { config, key });
    }
    keys.onKeysWithdrawn((kids) => this.forget(kids));
  }

  /** Drops what was imported or verified with keys no longer published (retired or removed). */
  private forget(kids: ReadonlySet<string>): void {
    for (const kid of kids) this.importedOwnKeys.delete(kid);
    for (const [token, verified] of this.verifiedOwn) if (kids.has(verified.kid)) this.verifiedOwn.delete(token);
  }

  /** The key of one of our tokens: only while it is published (active or retiring), checked on every token. */
  private ownKey = async (header: { kid?: string; alg?: string }) => {
    if (!header.kid) throw invalid('The token has no key id.');
    const found = await this.keys.publicJwk(header.kid);
    if (!found) throw invalid('The token was signed with an unknown key.');
    if (found.alg !== header.alg) throw invalid('The token algorithm does not match its key.');
    const cached = this.importedOwnKeys.get(header.kid);
    if (cached) return cached;
    const key = await importJWK(found.jwk, found.alg);
    this.importedOwnKeys.set(header.kid, key);
    return key;
  };

  async verify(token: string): Promise<VerifiedToken> {
    const known = this.verifiedOwn.get(token);
    if (known) {
      if (known.until > Date.now() / 1000 && this.keys.publishedKey(known.kid))
        return { source: 'own', kind: known.kind, payload: known.payload };
      this.verifiedOwn.delete(token);
    }
    let iss: string | undefined;
    try {
      decodeProtectedHeader(token);
      iss = decodeJwt(token).iss;
    } catch {
      throw invalid('The token is malformed.');
    }
    try {
      if (iss === this.issuerInfo.issuer) {
        const { payload, protectedHeader } = await jwtVerify(token, this.ownKey, {
          issuer: this.issuerInfo.issuer,
          audience: this.issuerInfo.audience,
          algorithms: OWN_ALGORITHMS,
          typ: 'at+jwt',
          clockTolerance: this.settings.JWT_CLOCK_SKEW_SECONDS,
          requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'],
        });
        const kind = payload.kind;
        if (typeof kind !== 'string' || !OWN_KINDS.includes(kind)) throw invalid('The token kind is not acceptable.');
        this.checkLifetime(kind as OwnTokenKind, payload as JWTPayload & { iat: number; exp: number });
        this.remember(token, kind as OwnTokenKind, protectedHeader.kid!, payload);
        return { source: 'own', kind: kind as OwnTokenKind, payload };
      }
      const trusted = iss ? this.trusted.get(iss) : undefined;
      if (!trusted) throw invalid('The token issuer is not trusted.');
      const key = await trusted.key;
      const { payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
        issuer: trusted.config.issuer,
        audience: trusted.config.audience,
        algorithms: trusted.config.algorithms,
        clockTolerance: this.settings.JWT_CLOCK_SKEW_SECONDS,
        requiredClaims: ['sub', 'exp', 'aud'],
      });
      return { source: 'external', issuer: trusted.config, payload };
    } catch (e) {
      throw invalid(describeJoseError(e));
    }
  }

  /**
   * We never sign a token dated in the future or living longer than its kind's lifetime: such a token was
   * made with a stolen key, and without this check it would be valid for as long as its maker chose.
   */
  private checkLifetime(kind: OwnTokenKind, payload: { iat: number; exp: number }): void {
    const skew = this.settings.JWT_CLOCK_SKEW_SECONDS;
    if (payload.iat > Date.now() / 1000 + skew) throw invalid("The token's iat claim is in the future.");
    if (payload.exp - payload.iat > this.issuerInfo.lifetimeSeconds(kind) + skew)
      throw invalid('The token lifetime is longer than its kind allows.');
  }

  private remember(
    token: string,
    kind: OwnTokenKind,
    kid: string,
    payload: JWTPayload & Record<string, unknown>,
  ): void {
    if (typeof payload.exp !== 'number') return;
    setBounded(
      this.verifiedOwn,
      token,
      { kind, kid, payload: Object.freeze(payload), until: payload.exp + this.settings.JWT_CLOCK_SKEW_SECONDS },
      VERIFIED_CACHE_MAX,
    );
  }
}
