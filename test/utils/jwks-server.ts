import { randomUUID } from 'node:crypto';
import { CryptoKey, exportJWK, exportSPKI, generateKeyPair, JWK, JWTHeaderParameters, SignJWT } from 'jose';
import { startLocalHttpServer } from './local-http';

export interface IssuerKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicKeyPem: string;
}

export async function newIssuerKey(alg: 'RS256' | 'ES256' = 'RS256'): Promise<IssuerKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return {
    kid,
    alg,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
    publicKeyPem: await exportSPKI(publicKey),
  };
}

export interface SignOptions {
  /** Claims to add or replace; `undefined` removes the claim. */
  claims?: Record<string, unknown>;
  /** Sign with this key instead of the current one. */
  key?: IssuerKey;
  /** Header parameters to add or replace (e.g. a `kid` the server does not publish). */
  header?: Partial<JWTHeaderParameters>;
}

/**
 * A token issuer on 127.0.0.1: serves its keys at `/jwks.json`, counts how often they are fetched,
 * and signs tokens with them. `rollover()` publishes a new key, as an identity provider does.
 */
export interface JwksServer {
  /** The `iss` of its tokens (its origin). */
  issuer: string;
  jwksUri: string;
  /** How many times `/jwks.json` has been fetched. */
  fetches(): number;
  /** The key new tokens are signed with. */
  current(): IssuerKey;
  /** Publishes a new key and signs with it from now on; the old one stays published unless `dropOld`. */
  rollover(options?: { dropOld?: boolean }): Promise<IssuerKey>;
  /** A token for `sub` with iss, aud (`audience`), iat and exp (+5 min), changed by `options`. */
  sign(sub: string, audience: string, options?: SignOptions): Promise<string>;
  close(): Promise<void>;
}

export async function startJwksServer(alg: 'RS256' | 'ES256' = 'RS256'): Promise<JwksServer> {
  let keys = [await newIssuerKey(alg)];
  const server = await startLocalHttpServer((req, res) => {
    if (req.method === 'GET' && req.url === '/jwks.json') {
      res.writeHead(200, { 'Content-Type': 'application/jwk-set+json' });
      res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
      return;
    }
    res.writeHead(404).end();
  });
  const issuer = server.origin;
  return {
    issuer,
    jwksUri: `${server.origin}/jwks.json`,
    fetches: () => server.requests.filter((r) => r.url === '/jwks.json').length,
    current: () => keys[keys.length - 1],
    async rollover(options = {}) {
      const next = await newIssuerKey(alg);
      keys = options.dropOld ? [next] : [...keys, next];
      return next;
    },
    async sign(sub, audience, options = {}) {
      const key = options.key ?? keys[keys.length - 1];
      const now = Math.floor(Date.now() / 1000);
      const claims: Record<string, unknown> = {
        iss: issuer,
        aud: audience,
        sub,
        iat: now,
        exp: now + 300,
        ...options.claims,
      };
      for (const [k, v] of Object.entries(options.claims ?? {})) if (v === undefined) delete claims[k];
      return new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header })
        .sign(key.privateKey);
    },
    close: () => server.close(),
  };
}
