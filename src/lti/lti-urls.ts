import { publicUrl } from '../config/load-settings';
import { isLoopback } from '../config/setting-values';
import type { Settings } from '../config/settings.schema';

/** The URLs the tool hands out, all from PUBLIC_URL (never from Host or X-Forwarded-* headers). */
export interface ToolUrls {
  login: string;
  launch: string;
  target: string;
  jwks: string;
  /** The origin of PUBLIC_URL (for Origin and target_link_uri checks). */
  origin: string;
  /** Path of the state cookies: the tool's routes only. */
  cookiePath: string;
  /** PUBLIC_URL without its trailing slash. */
  base: string;
}

export function toolUrls(settings: Settings): ToolUrls {
  const base = publicUrl(settings);
  const url = new URL(base);
  const path = url.pathname.replace(/\/+$/, '');
  return {
    login: `${base}/lti/login`,
    launch: `${base}/lti/launch`,
    target: `${base}/console/lti`,
    jwks: `${base}/lti/jwks.json`,
    origin: url.origin,
    cookiePath: `${path}/lti/`,
    base,
  };
}

/** A URI of ours: same origin as PUBLIC_URL and under its path. Anything else would make the launch an open redirect. */
export function isToolUri(uri: string, urls: ToolUrls): boolean {
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return false;
  }
  if (parsed.origin !== urls.origin || parsed.username || parsed.password) return false;
  const basePath = new URL(urls.base).pathname.replace(/\/+$/, '');
  return parsed.pathname === basePath || parsed.pathname.startsWith(`${basePath}/`);
}

/** Platform URLs are https, or http on a loopback host (a local LMS), or http anywhere when the setting allows it. */
export function platformUrlProblem(value: string, allowInsecure: boolean): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.protocol === 'https:') return null;
  if (url.protocol !== 'http:') return 'must be https';
  if (allowInsecure || isLoopback(url.hostname)) return null;
  return 'must be https (plain http only for loopback hosts, or with LTI_ALLOW_INSECURE_PLATFORM_URLS)';
}
