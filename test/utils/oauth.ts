import type { Test } from 'supertest';
import type { TestApp } from './test-app';

export const NEW_USER_GRANT = 'urn:campus-access:params:oauth:grant-type:new-user-credentials';
export const UIS_NEW_USER_GRANT = 'urn:devops.uis.cam.ac.uk:params:oauth:grant-type:new-user-credentials';

/** HTTP Basic client authentication as RFC 6749 §2.3.1 asks: each part form-encoded, then base64. */
export function basicAuth(clientId: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`, 'utf8').toString('base64')}`;
}

/** A form-encoded POST to the token endpoint (`/oauth/token`, or `/token`). */
export function tokenRequest(
  t: TestApp,
  form: Record<string, string>,
  options: { authorization?: string; path?: string; 'x-forwarded-for'?: string } = {},
): Test {
  const req = t.http.post(options.path ?? '/oauth/token').type('form');
  if (options.authorization) req.set('Authorization', options.authorization);
  if (options['x-forwarded-for']) req.set('X-Forwarded-For', options['x-forwarded-for']);
  return req.send(form);
}

/** A client_credentials access token, authenticating with HTTP Basic. */
export async function clientCredentialsToken(
  t: TestApp,
  clientId: string,
  secret: string,
  scope?: string,
): Promise<string> {
  const res = await tokenRequest(
    t,
    { grant_type: 'client_credentials', ...(scope ? { scope } : {}) },
    { authorization: basicAuth(clientId, secret) },
  );
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}
