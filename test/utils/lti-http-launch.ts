import { LmsBrowserPlatform, LmsLaunch } from './lti-platform';

/** The exchange answer of a launch (`POST /api/v1/lti/launches/{launch_id}/exchange`). */
export interface LaunchExchange {
  access_token: string;
  token_type: string;
  expires_in: number;
  user: { id: string; username: string; [field: string]: unknown };
  project: { id: string; [field: string]: unknown } | null;
  role: string | null;
  [field: string]: unknown;
}

/**
 * One LTI 1.3 launch as a browser makes it, over plain HTTP: the third-party initiated login posted
 * to the tool, the tool's redirect followed to the platform's auth endpoint, the id_token form posted
 * back to the tool with the tool's cookies, and the launch_id of its redirect exchanged. Each step
 * checks the answer it needs and throws naming the step otherwise.
 */
export async function launchOverHttp(
  platform: LmsBrowserPlatform,
  toolLoginUrl: string,
  launch: LmsLaunch,
): Promise<LaunchExchange> {
  const toolOrigin = new URL(toolLoginUrl).origin;
  const login = await fetch(toolLoginUrl, {
    method: 'POST',
    body: new URLSearchParams(platform.loginInitiation(launch)),
    redirect: 'manual',
  });
  const authUrl = await expectRedirect('login', login, platform.authLoginUrl);
  const cookies = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');

  const auth = await fetch(authUrl, { redirect: 'manual' });
  const form = await auth.text();
  if (auth.status !== 200) throw new Error(`auth: ${auth.status} ${form.slice(0, 300)}`);
  const action = htmlAttribute(form, /<form[^>]*action="([^"]*)"/);
  const idToken = htmlAttribute(form, /name="id_token" value="([^"]*)"/);
  const state = htmlAttribute(form, /name="state" value="([^"]*)"/);

  const posted = await fetch(action, {
    method: 'POST',
    body: new URLSearchParams({ id_token: idToken, state }),
    headers: cookies ? { Cookie: cookies } : {},
    redirect: 'manual',
  });
  const target = new URL(await expectRedirect('launch', posted, toolOrigin));
  const launchId = target.searchParams.get('launch_id');
  if (!launchId) throw new Error(`launch: redirected to ${target.toString()} without a launch_id`);

  const exchange = await fetch(`${toolOrigin}/api/v1/lti/launches/${encodeURIComponent(launchId)}/exchange`, {
    method: 'POST',
  });
  const body = await exchange.text();
  if (exchange.status !== 200) throw new Error(`exchange: ${exchange.status} ${body.slice(0, 300)}`);
  return JSON.parse(body) as LaunchExchange;
}

async function expectRedirect(step: string, res: Response, prefix: string): Promise<string> {
  const location = res.headers.get('location');
  if (res.status < 300 || res.status > 303 || !location?.startsWith(prefix)) {
    throw new Error(`${step}: expected a redirect to ${prefix}, got ${res.status} ${(await res.text()).slice(0, 300)}`);
  }
  await res.arrayBuffer();
  return location;
}

function htmlAttribute(html: string, pattern: RegExp): string {
  const found = pattern.exec(html)?.[1];
  if (found === undefined) throw new Error(`auth: no ${pattern} in the form_post page`);
  return found.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : "'",
  );
}
