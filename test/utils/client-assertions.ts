import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { IssuerKey } from './jwks-server';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * A private_key_jwt client assertion (RFC 7523 §3) for `clientId`: iss = sub = the client, `aud`, a fresh
 * jti, iat now and exp in 60 s, signed with `key`; `claims` add, replace or (with `undefined`) remove claims.
 */
export async function clientAssertion(
  key: IssuerKey,
  clientId: string,
  aud: string | string[],
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud,
    jti: randomUUID(),
    iat: now,
    exp: now + 60,
    ...claims,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

/** The form fields of private_key_jwt client authentication. */
export const assertionForm = (assertion: string) => ({
  client_assertion_type: JWT_BEARER,
  client_assertion: assertion,
});
