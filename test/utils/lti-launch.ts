import type { Response } from 'supertest';
import type { TestApp } from './test-app';
import type { LaunchSpec, LtiPlatformSimulator } from './lti-platform';

/** The PUBLIC_URL LTI tests run the tool under. */
export const TOOL_URL = 'https://tool.example.test';
export const TARGET = `${TOOL_URL}/lti/app`;

/** The reason code on a refusal page. */
export function reasonOf(res: { text: string }): string | undefined {
  return /data-lti-reason="([^"]+)"/.exec(res.text)?.[1];
}

export interface LoginResult {
  res: Response;
  /** Where the tool sent the browser (the platform's authorization URL). */
  location: string;
  /** The state cookie as a `Cookie` header value. */
  cookie: string;
  state: string;
  nonce: string;
}

/** The third-party initiated login, by GET (default) or POST. */
export async function ltiLogin(
  t: TestApp,
  params: Record<string, string>,
  method: 'GET' | 'POST' = 'GET',
): Promise<LoginResult> {
  const res =
    method === 'GET'
      ? await t.http.get('/lti/login').query(params)
      : await t.http.post('/lti/login').type('form').send(params);
  const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const cookie = setCookie.map((c) => c.split(';')[0]).join('; ');
  const location = (res.headers.location as string | undefined) ?? '';
  const auth = location ? new URL(location) : undefined;
  return {
    res,
    location,
    cookie,
    state: auth?.searchParams.get('state') ?? '',
    nonce: auth?.searchParams.get('nonce') ?? '',
  };
}

/** Posts the launch form (fields from the platform), with the state cookie unless `cookie` is null. */
export function ltiLaunch(t: TestApp, fields: Record<string, string>, cookie: string | null): Promise<Response> {
  const req = t.http.post('/lti/launch').type('form');
  if (cookie) req.set('Cookie', cookie);
  return req.send(fields);
}

export interface FullLaunch {
  login: LoginResult;
  fields: Record<string, string>;
  res: Response;
  /** The launch id of the 303, or undefined when refused. */
  launchId?: string;
}

/** Login → platform authorization (real HTTP) → launch, as a browser with cookies does it. */
export async function fullLaunch(
  t: TestApp,
  lms: LtiPlatformSimulator,
  spec: LaunchSpec = {},
  options: { loginParams?: Record<string, string | undefined>; fields?: Record<string, string | undefined> } = {},
): Promise<FullLaunch> {
  const hint = lms.prepare(spec);
  const login = await ltiLogin(t, lms.loginParams(hint, spec.targetLinkUri ?? TARGET, options.loginParams));
  if (login.res.status !== 302) throw new Error(`login refused: ${login.res.status} ${reasonOf(login.res)}`);
  const fields = await lms.authorize(login.location);
  const sent = Object.fromEntries(
    Object.entries({ ...fields, ...options.fields }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const res = await ltiLaunch(t, sent, login.cookie);
  const location = res.headers.location as string | undefined;
  const launchId =
    res.status === 303 && location ? (new URL(location).searchParams.get('launch_id') ?? undefined) : undefined;
  return { login, fields: sent, res, launchId };
}

/** A launch that must succeed, exchanged for its session. */
export async function launchAndExchange(t: TestApp, lms: LtiPlatformSimulator, spec: LaunchSpec = {}) {
  const launch = await fullLaunch(t, lms, spec);
  if (!launch.launchId) throw new Error(`launch refused: ${launch.res.status} ${reasonOf(launch.res)}`);
  const session = await t.http.post(`/api/v1/lti/launches/${launch.launchId}/exchange`);
  if (session.status !== 200) throw new Error(`exchange refused: ${session.status} ${JSON.stringify(session.body)}`);
  return { launch, session: session.body as SessionBody };
}

export interface SessionBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  user: {
    id: string;
    username: string;
    email: string | null;
    email_verified: boolean;
    first_name: string;
    last_name: string;
  };
  project: { id: string; organization: string; key: string; name: string } | null;
  role: string | null;
  claims: Record<string, unknown>;
  course_account: { id: string; state: string; username: string | null } | null;
}
