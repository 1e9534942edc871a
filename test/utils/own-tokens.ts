import { randomUUID } from 'node:crypto';
import { base64url, CryptoKey, decodeJwt, importPKCS8, JWTHeaderParameters, SignJWT } from 'jose';
import { DataSource } from 'typeorm';
import { TokenIssuer } from '../../src/accounts/auth/token-issuer.service';
import { KeyEncryption } from '../../src/accounts/keys/key-encryption';
import { resolveKeyEncryptionSecret } from '../../src/accounts/keys/key-encryption-secret';
import type { TestApp } from './test-app';

export interface OwnSigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
}

/**
 * The app's active signing key, read from `signing_keys` and decrypted exactly as the app does it.
 * Tests sign with it what the app would sign and then change one thing (a header, a claim), so each
 * hostile token differs from a valid one only in the property under test.
 */
export async function activeSigningKey(t: TestApp): Promise<OwnSigningKey> {
  const [row] = await t.app
    .get(DataSource)
    .query<{ kid: string; alg: string; private_key_encrypted: string }[]>(
      "SELECT kid, alg, private_key_encrypted FROM signing_keys WHERE status = 'active' AND purpose = 'access_token' ORDER BY created_at DESC LIMIT 1",
    );
  const pem = new KeyEncryption(resolveKeyEncryptionSecret(t.settings).secret).decrypt(row.private_key_encrypted);
  return { kid: row.kid, alg: row.alg, privateKey: await importPKCS8(pem, row.alg) };
}

export interface OwnTokenOptions {
  /** Claims to add or replace; `undefined` removes the claim. */
  claims?: Record<string, unknown>;
  /** Header parameters to add or replace; `undefined` removes the parameter. */
  header?: Partial<Record<keyof JWTHeaderParameters, unknown>>;
  key?: OwnSigningKey;
}

function withOverrides<T extends Record<string, unknown>>(base: T, overrides: object = {}): T {
  const out: Record<string, unknown> = { ...base, ...overrides };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete out[k];
  return out as T;
}

/**
 * A token signed with the app's key carrying the claims of a user access token for `sub`
 * (iss, aud, client_id, scope, kind, iat, exp, jti), changed by `options`.
 */
export async function signOwnToken(t: TestApp, sub: string, options: OwnTokenOptions = {}): Promise<string> {
  const key = options.key ?? (await activeSigningKey(t));
  const issuer = t.app.get(TokenIssuer);
  const now = Math.floor(Date.now() / 1000);
  const claims = withOverrides(
    {
      iss: issuer.issuer,
      aud: issuer.audience,
      sub,
      client_id: 'campus-access',
      scope: '',
      kind: 'user',
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
    },
    options.claims,
  );
  const header = withOverrides({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }, options.header) as JWTHeaderParameters;
  return new SignJWT(claims).setProtectedHeader(header).sign(key.privateKey);
}

/** The same token with payload claims changed and the original signature kept. */
export function tamperPayload(token: string, changes: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  const payload = { ...decodeJwt(token), ...changes };
  return [header, base64url.encode(JSON.stringify(payload)), signature].join('.');
}
