import { parse as parseYaml } from 'yaml';

export interface TrustedIssuerConfig {
  issuer: string;
  jwksUri?: string;
  publicKeyPem?: string;
  audience: string | string[];
  algorithms: string[];
  claims: { username: string; email: string; firstName: string; lastName: string };
}

const ASYMMETRIC = /^(RS|PS|ES)(256|384|512)$|^EdDSA$/;

/** Parses TRUSTED_ISSUERS; any mistake stops start-up with a message naming the entry. */
export function parseTrustedIssuers(text: string): TrustedIssuerConfig[] {
  const raw = parseYaml(text) ?? [];
  if (!Array.isArray(raw)) throw new Error('TRUSTED_ISSUERS must be a list');
  return raw.map((entry: Record<string, unknown>, i: number) => {
    const where = `TRUSTED_ISSUERS[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new Error(`${where} must be a mapping`);
    const issuer = entry.issuer;
    if (typeof issuer !== 'string' || !issuer) throw new Error(`${where}.issuer is required`);
    const jwksUri = entry.jwks_uri as string | undefined;
    const publicKeyPem = entry.public_key_pem as string | undefined;
    if (!jwksUri === !publicKeyPem) throw new Error(`${where} needs exactly one of jwks_uri and public_key_pem`);
    if (jwksUri) new URL(jwksUri);
    const audience = entry.audience as string | string[] | undefined;
    if (!audience || (Array.isArray(audience) && audience.length === 0))
      throw new Error(`${where}.audience is required`);
    const algorithms = (entry.algorithms as string[] | undefined) ?? ['RS256', 'ES256'];
    for (const alg of algorithms) {
      if (!ASYMMETRIC.test(alg)) throw new Error(`${where}.algorithms: ${alg} is not an asymmetric algorithm`);
    }
    const claims = (entry.claims ?? {}) as Record<string, string>;
    return {
      issuer,
      jwksUri,
      publicKeyPem,
      audience,
      algorithms,
      claims: {
        username: claims.username ?? 'preferred_username',
        email: claims.email ?? 'email',
        firstName: claims.first_name ?? 'given_name',
        lastName: claims.last_name ?? 'family_name',
      },
    };
  });
}
