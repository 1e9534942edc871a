import type { NextFunction, Request, Response } from 'express';
import { ExtractJwt } from 'passport-jwt';
import { DASHBOARD_SESSION_COOKIE } from '../../accounts/auth/dashboard-session';
import { TokenVerifier } from '../../accounts/auth/token-verifier.service';
import { UsersService } from '../../accounts/users/users.service';

type Refusal =
  { status: 401; error: 'unauthorized'; message: string } | { status: 403; error: 'forbidden'; message: string };

const extractBearer = ExtractJwt.fromAuthHeaderAsBearerToken();

/** One cookie's value from the Cookie header (no cookie parser elsewhere in the application needs one). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) {
      const value = part.slice(at + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}

/**
 * The guard of the Bull dashboard (@bull-board) at /admin/queues, run before every page, asset and API
 * request of it. Browsers reach it with the cookie of `POST /api/v1/auth/dashboard-session`; scripts
 * may send a bearer token instead. Either must be our user access token of an active staff user.
 */
export function queueDashboardGuard(verifier: TokenVerifier, users: UsersService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    refusal(req, verifier, users).then(
      (refused) => {
        res.setHeader('Cache-Control', 'no-store');
        if (!refused) return next();
        if (refused.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
        res.status(refused.status).json({ error: refused.error, message: refused.message });
      },
      (e: unknown) => next(e),
    );
  };
}

/** Why this request may not see the dashboard, or undefined when it may. */
async function refusal(req: Request, verifier: TokenVerifier, users: UsersService): Promise<Refusal | undefined> {
  const token = extractBearer(req) ?? cookieValue(req.headers.cookie, DASHBOARD_SESSION_COOKIE);
  if (!token)
    return {
      status: 401,
      error: 'unauthorized',
      message: 'Staff sign-in required: POST /api/v1/auth/dashboard-session first.',
    };
  let verified: Awaited<ReturnType<TokenVerifier['verify']>>;
  try {
    verified = await verifier.verify(token);
  } catch {
    return { status: 401, error: 'unauthorized', message: 'The session has expired or is not valid.' };
  }
  if (verified.source !== 'own' || verified.kind === 'activation') {
    return {
      status: 401,
      error: 'unauthorized',
      message: 'Use a Campus Access user token or the dashboard session cookie.',
    };
  }
  if (verified.kind === 'service')
    return { status: 403, error: 'forbidden', message: 'Only staff may open the queue dashboard.' };
  const user = await users.findById(String(verified.payload.sub));
  if (!user || !user.isActive) return { status: 401, error: 'unauthorized', message: 'The user is deactivated.' };
  if (!user.isStaff) return { status: 403, error: 'forbidden', message: 'Only staff may open the queue dashboard.' };
  return undefined;
}
