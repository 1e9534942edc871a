import type { Request } from 'express';
import { publicUrl } from '../../config/load-settings';
import type { Settings } from '../../config/settings.schema';
import { AccountsError } from '../accounts.errors';

/** The cookie holding a browser session's refresh token (see AuthSessionController). */
export const SESSION_COOKIE = 'campus_access_session';
/** A header a cross-site form or image can not send; a cross-site script can only with CORS, which refuses it. */
export const SESSION_CSRF_HEADER = 'X-Requested-With';

/** The session routes' path under PUBLIC_URL: the only requests that carry the cookie. */
export function sessionCookiePath(settings: Settings): string {
  return `${new URL(publicUrl(settings)).pathname.replace(/\/+$/, '')}/api/v1/auth/session`;
}

/**
 * CSRF check of the cookie routes: the custom header must be there and the Origin must be ours —
 * PUBLIC_URL's origin, or, when PUBLIC_URL is not set, the origin the request was sent to. A browser
 * always sends Origin with a fetch POST; a request without one is refused too.
 */
export function checkSessionRequest(req: Request, settings: Settings): void {
  const marker = req.headers[SESSION_CSRF_HEADER.toLowerCase()];
  if (typeof marker !== 'string' || marker.trim() === '')
    throw new AccountsError('csrf_check_failed', `The ${SESSION_CSRF_HEADER} header is required.`);
  const origin = req.headers.origin;
  const ours = settings.PUBLIC_URL ? new URL(publicUrl(settings)).origin : `${req.protocol}://${req.get('host')}`;
  if (origin !== ours) throw new AccountsError('csrf_check_failed', 'The request does not come from our pages.');
}
