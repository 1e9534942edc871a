import { importJWK, JWK } from 'jose';
import { CommonError } from '../../common/errors/common.errors';
import { isLoopback } from '../../config/setting-values';

/** The algorithms client assertions may be signed with (private_key_jwt). */
export const CLIENT_ASSERTION_ALGORITHMS = ['RS256', 'ES256'];

const MAX_KEYS = 10;
const MAX_JWKS_BYTES = 16_384;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export interface ClientKeys {
  jwks: { keys: Record<string, unknown>[] } | null;
  jwksUri: string | null;
}

function invalid(field: 'jwks' | 'jwks_uri', problem: string): never {
  throw new CommonError('validation_failed', `Invalid request: ${field}`, { fields: [{ field, problems: [problem] }] });
}

/**
 * The public keys a service account registers for private_key_jwt, checked: a JWK Set of 1–10 public RSA
 * (2048 bits or more) or P-256 keys, each usable for RS256 or ES256 signatures, nothing private; or an
 * https URL of one (plain http only to a loopback host, and only outside production). Not both.
 */
export async function checkedClientKeys(
  jwks: unknown,
  jwksUri: unknown,
  options: { allowLoopbackHttp: boolean },
): Promise<ClientKeys> {
  if (jwks && jwksUri) invalid('jwks', 'give jwks or jwks_uri, not both');
  if (jwksUri) {
    let url: URL;
    try {
      url = new URL(String(jwksUri));
    } catch {
      return invalid('jwks_uri', 'must be a URL');
    }
    const loopbackHttp = url.protocol === 'http:' && isLoopback(url.hostname) && options.allowLoopbackHttp;
    if (url.protocol !== 'https:' && !loopbackHttp) invalid('jwks_uri', 'must be an https URL');
    if (url.username || url.password) invalid('jwks_uri', 'must not carry credentials');
    return { jwks: null, jwksUri: url.toString() };
  }
  if (!jwks) return { jwks: null, jwksUri: null };
  const keys = (jwks as { keys?: unknown }).keys;
  if (typeof jwks !== 'object' || !Array.isArray(keys) || keys.length < 1 || keys.length > MAX_KEYS)
    invalid('jwks', `must be a JWK Set: { "keys": [1 to ${MAX_KEYS} keys] }`);
  if (JSON.stringify(jwks).length > MAX_JWKS_BYTES) invalid('jwks', `must be at most ${MAX_JWKS_BYTES} bytes`);
  const checked: Record<string, unknown>[] = [];
  for (const key of keys as unknown[]) {
    if (!key || typeof key !== 'object' || Array.isArray(key)) invalid('jwks', 'each key must be a JWK object');
    const jwk = key as JWK;
    if (PRIVATE_MEMBERS.some((m) => m in jwk)) invalid('jwks', 'keys must be public: no private key members');
    if (jwk.use !== undefined && jwk.use !== 'sig') invalid('jwks', 'a key with "use" must have "sig"');
    const alg = jwk.kty === 'RSA' ? 'RS256' : jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : undefined;
    if (!alg) invalid('jwks', 'keys must be RSA or EC P-256');
    if (jwk.alg !== undefined && jwk.alg !== alg) invalid('jwks', `an ${jwk.kty} key here signs with ${alg} only`);
    if (alg === 'RS256' && Buffer.from(String(jwk.n ?? ''), 'base64url').length < 256)
      invalid('jwks', 'RSA keys must have at least 2048 bits');
    try {
      await importJWK(jwk, alg);
    } catch {
      invalid('jwks', 'a key could not be read');
    }
    checked.push({ ...jwk });
  }
  return { jwks: { keys: checked }, jwksUri: null };
}
