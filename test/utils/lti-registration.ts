import type { LmsBrowserPlatform, ToolUrls } from './lti-platform';

/** The `tool` block of a platform registration: what an LMS administrator pastes into the LMS. */
export interface ToolBlock {
  login_initiation_url: string;
  redirect_url: string;
  target_link_url: string;
  jwks_url: string;
  public_jwk: Record<string, unknown> | null;
  public_key_pem: string | null;
  domain: string;
}

export interface RegisteredPlatform {
  id: string;
  tool: ToolBlock;
  [field: string]: unknown;
}

/** The tool's URLs as the platform registers them. */
export function toolUrlsOf(tool: ToolBlock): ToolUrls {
  return { loginUrl: tool.login_initiation_url, launchUrl: tool.redirect_url, targetLinkUri: tool.target_link_url };
}

async function call<T>(method: string, url: string, token: string | null, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${new URL(url).pathname}: ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** A user access token from `POST /api/v1/auth/login`. */
export async function passwordLogin(baseUrl: string, username: string, password: string): Promise<string> {
  const answer = await call<{ access_token: string }>('POST', `${baseUrl}/api/v1/auth/login`, null, {
    username,
    password,
  });
  return answer.access_token;
}

export async function createOrganization(baseUrl: string, token: string, key: string, name: string) {
  return call<{ id: string; key: string }>('POST', `${baseUrl}/api/v1/organizations`, token, { key, name });
}

/** Registers `platform` with the tool at `baseUrl` (`POST /api/v1/lti/platforms`) for `organization`. */
export async function registerPlatform(
  baseUrl: string,
  token: string,
  platform: LmsBrowserPlatform,
  organization: string,
  extra: Record<string, unknown> = {},
): Promise<RegisteredPlatform> {
  return call<RegisteredPlatform>('POST', `${baseUrl}/api/v1/lti/platforms`, token, {
    organization,
    name: 'LMS simulator',
    issuer: platform.issuer,
    client_id: platform.clientId,
    auth_login_url: platform.authLoginUrl,
    auth_token_url: platform.authTokenUrl,
    jwks_url: platform.jwksUrl,
    deployment_ids: [platform.deploymentId],
    ...extra,
  });
}
