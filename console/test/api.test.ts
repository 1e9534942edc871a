import { describe, expect, it, vi } from 'vitest';
import { ApiError, basePathOf } from '../src/api';
import { fakeApi, path } from './fake-api';

describe('ApiClient', () => {
  it('signs in through the session route with the CSRF header and the cookie, and keeps the token in memory', async () => {
    const { api, calls } = fakeApi((c) =>
      path(c) === '/api/v1/auth/session/login'
        ? { status: 200, body: { access_token: 'tok-1', expires_in: 900 } }
        : path(c) === '/api/v1/auth/me'
          ? { status: 200, body: { id: 'me' } }
          : undefined,
    );
    await api.signIn('ada', 'secret secret');
    expect(calls[0]).toMatchObject({
      method: 'POST',
      credentials: 'same-origin',
      body: { username: 'ada', password: 'secret secret' },
      headers: { 'X-Requested-With': 'campus-access-console' },
    });
    await api.get('/auth/me');
    expect(calls[1].headers.Authorization).toBe('Bearer tok-1');
    // The token goes in a header, never in a URL; API calls do not send the cookie.
    expect(calls.every((c) => !c.url.includes('tok-1'))).toBe(true);
    expect(calls[1].credentials).toBe('omit');
    expect(window.localStorage.length).toBe(0);
    expect(window.sessionStorage.length).toBe(0);
  });

  it('answers a 401 with one refresh from the cookie and sends the request again', async () => {
    let refreshed = false;
    const { api, calls } = fakeApi((c) => {
      if (path(c) === '/api/v1/auth/session/login')
        return { status: 200, body: { access_token: 'old', expires_in: 1 } };
      if (path(c) === '/api/v1/auth/session/refresh') {
        refreshed = true;
        return { status: 200, body: { access_token: 'new', expires_in: 900 } };
      }
      if (path(c) === '/api/v1/organizations')
        return c.headers.Authorization === 'Bearer new'
          ? { status: 200, body: { count: 0, results: [] } }
          : { status: 401, body: { error: 'unauthenticated', message: 'expired' } };
      return undefined;
    });
    await api.signIn('ada', 'pw');
    await expect(api.get('/organizations')).resolves.toEqual({ count: 0, results: [] });
    expect(refreshed).toBe(true);
    expect(calls.map((c) => path(c))).toEqual([
      '/api/v1/auth/session/login',
      '/api/v1/organizations',
      '/api/v1/auth/session/refresh',
      '/api/v1/organizations',
    ]);
  });

  it('ends the session (back to sign-in) when the refresh is refused too', async () => {
    const { api } = fakeApi((c) => {
      if (path(c) === '/api/v1/auth/session/login') return { status: 200, body: { access_token: 't', expires_in: 1 } };
      if (path(c) === '/api/v1/auth/session/refresh')
        return { status: 401, body: { error: 'invalid_refresh_token', message: 'no' } };
      return { status: 401, body: { error: 'unauthenticated', message: 'expired' } };
    });
    await api.signIn('ada', 'pw');
    const signedOut = vi.fn();
    api.onSignedOut(signedOut);
    await expect(api.get('/jobs')).rejects.toMatchObject({ status: 401 });
    expect(signedOut).toHaveBeenCalledTimes(1);
    expect(api.signedIn).toBe(false);
  });

  it('reads the request id of a 5xx, and tells server failures from the caller’s mistakes', async () => {
    const { api } = fakeApi((c) => {
      if (path(c) === '/api/v1/auth/session/login') return { status: 200, body: { access_token: 't', expires_in: 1 } };
      if (path(c) === '/api/v1/jobs')
        return {
          status: 503,
          body: { error: 'database_unavailable', message: 'Try again.' },
          headers: { 'X-Request-Id': 'req-42' },
        };
      return { status: 403, body: { error: 'forbidden', message: 'No.' }, headers: { 'X-Request-Id': 'req-43' } };
    });
    await api.signIn('ada', 'pw');
    const failed = await api.get('/jobs').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ApiError);
    expect(failed).toMatchObject({
      status: 503,
      code: 'database_unavailable',
      requestId: 'req-42',
      serverFailed: true,
    });
    const refused = await api.post('/organizations', {}).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 403, code: 'forbidden', serverFailed: false });
  });

  it('does not refresh an LTI launch session: its 401 ends it', async () => {
    const { api, calls } = fakeApi((c) =>
      path(c).endsWith('/exchange')
        ? { status: 200, body: { access_token: 'lti-token' } }
        : { status: 401, body: { error: 'unauthenticated', message: 'expired' } },
    );
    await api.exchangeLaunch('launch-1');
    expect(api.sessionKind).toBe('lti');
    await expect(api.get('/course-accounts')).rejects.toMatchObject({ status: 401 });
    expect(calls.some((c) => path(c).includes('/auth/session/'))).toBe(false);
    expect(calls[1].headers.Authorization).toBe('Bearer lti-token');
  });

  it('finds out whether a route exists from OPTIONS and its Allow header', async () => {
    const { api } = fakeApi((c) =>
      c.method === 'OPTIONS' && path(c).endsWith('/set-ok')
        ? { status: 204, headers: { Allow: 'OPTIONS, POST' } }
        : undefined,
    );
    expect(await api.hasRoute('POST', '/course-accounts/1/set-ok')).toBe(true);
    expect(await api.hasRoute('POST', '/course-accounts/1/other')).toBe(false);
  });

  it('builds query strings, repeating list values and leaving out empty ones', () => {
    const { api } = fakeApi(() => undefined);
    expect(api.url('/course-accounts', { state: ['OK', 'ERRED'], username: '', page: 2 })).toBe(
      '/api/v1/course-accounts?state=OK&state=ERRED&page=2',
    );
  });

  it('finds PUBLIC_URL’s path from the console’s location', () => {
    expect(basePathOf('/console/jobs')).toBe('');
    expect(basePathOf('/campus/console/jobs')).toBe('/campus');
  });
});
