/**
 * The console's client of the REST API. The access token lives in this object only (never in
 * localStorage, a cookie the page can read, or a URL); the refresh token is the HttpOnly session
 * cookie that only /api/v1/auth/session/* receives. A 401 refreshes once, then signs out.
 */

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** An answer other than 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The server failed (5xx) or could not be reached: not the user's mistake. */
  get serverFailed(): boolean {
    return this.status === 0 || this.status >= 500;
  }
}

/** How a session was opened: by the console's sign-in (refreshable) or by an LTI launch (not). */
export type SessionKind = 'console' | 'lti';

interface TokenAnswer {
  access_token: string;
  expires_in: number;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | string[] | undefined | null>;
  /** Answer the raw Response (downloads). */
  raw?: boolean;
}

const SESSION_HEADERS = { 'X-Requested-With': 'campus-access-console' };

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export class ApiClient {
  private token: string | null = null;
  private kind: SessionKind = 'console';
  private refreshing: Promise<boolean> | null = null;
  private listeners = new Set<() => void>();

  /**
   * @param base PUBLIC_URL's path ('' at the root), the API being at `${base}/api/v1`.
   * @param fetchImpl the browser's fetch; tests pass their own.
   */
  constructor(
    readonly base: string,
    private readonly fetchImpl: Fetch = (input, init) => fetch(input, init),
  ) {}

  get signedIn(): boolean {
    return this.token !== null;
  }

  get sessionKind(): SessionKind {
    return this.kind;
  }

  /** Called when the session ends: sign-out, or a 401 that a refresh did not cure. */
  onSignedOut(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  url(path: string, query?: RequestOptions['query']): string {
    const prefixed = path.startsWith('/api/') ? `${this.base}${path}` : `${this.base}/api/v1${path}`;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null || value === '') continue;
      for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
    }
    const qs = params.toString();
    return qs ? `${prefixed}?${qs}` : prefixed;
  }

  async signIn(username: string, password: string): Promise<void> {
    const answer = await this.send<TokenAnswer>('POST', '/auth/session/login', {
      body: { username, password },
      headers: SESSION_HEADERS,
      credentials: 'same-origin',
    });
    this.token = answer.access_token;
    this.kind = 'console';
  }

  /** Exchanges a launch's one-time id for its session (POST /lti/launches/{id}/exchange); keeps the token. */
  async exchangeLaunch<T extends { access_token: string }>(launchId: string): Promise<T> {
    const session = await this.send<T>('POST', `/lti/launches/${encodeURIComponent(launchId)}/exchange`, {});
    this.useLaunchToken(session.access_token);
    return session;
  }

  /** An LTI launch's session: its token, no refresh (the launch can be opened again). */
  useLaunchToken(token: string): void {
    this.token = token;
    this.kind = 'lti';
  }

  /** A new access token from the session cookie; false when there is no session. */
  refresh(): Promise<boolean> {
    if (this.kind === 'lti') return Promise.resolve(false);
    this.refreshing ??= this.send<TokenAnswer>('POST', '/auth/session/refresh', {
      headers: SESSION_HEADERS,
      credentials: 'same-origin',
    })
      .then((answer) => {
        this.token = answer.access_token;
        return true;
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return false;
        throw e;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  async signOut(): Promise<void> {
    try {
      if (this.kind === 'console')
        await this.send('POST', '/auth/session/logout', { headers: SESSION_HEADERS, credentials: 'same-origin' });
    } finally {
      this.endSession();
    }
  }

  /** Forget the token (also after the password changed: every session ended). */
  endSession(): void {
    const was = this.token !== null;
    this.token = null;
    if (was) for (const listener of [...this.listeners]) listener();
  }

  get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  patch<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body });
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** Whether the API has a route for this method and path (OPTIONS answers Allow; no route is 404). */
  async hasRoute(method: string, path: string): Promise<boolean> {
    try {
      const res = await this.fetchImpl(this.url(path), { method: 'OPTIONS' });
      if (res.status >= 400) return false;
      return (res.headers.get('Allow') ?? '').split(/\s*,\s*/).includes(method);
    } catch {
      return false;
    }
  }

  /** A request with the access token; one 401 is answered by a refresh and the request sent again. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    if (!this.token && !(await this.refresh())) {
      this.endSession();
      throw new ApiError(401, 'unauthenticated', 'Please sign in.', null);
    }
    try {
      return await this.send<T>(method, path, { ...options, auth: true });
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      if (await this.refresh()) return this.send<T>(method, path, { ...options, auth: true });
      this.endSession();
      throw e;
    }
  }

  private async send<T>(
    method: string,
    path: string,
    options: RequestOptions & { auth?: boolean; headers?: Record<string, string>; credentials?: RequestCredentials },
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
    if (options.auth && this.token) headers.Authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    let res: Response;
    try {
      res = await this.fetchImpl(this.url(path, options.query), {
        method,
        headers,
        body,
        credentials: options.credentials ?? 'omit',
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'network_error', 'The server could not be reached.', null);
    }
    if (res.ok) {
      if (options.raw) return res as unknown as T;
      if (res.status === 204) return undefined as T;
      const text = await res.text();
      return (text ? JSON.parse(text) : undefined) as T;
    }
    throw await errorOf(res);
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  const requestId = res.headers.get('X-Request-Id');
  let body: { error?: unknown; message?: unknown; details?: unknown } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not JSON (a proxy's error page): the status says enough
  }
  return new ApiError(
    res.status,
    typeof body.error === 'string' ? body.error : `http_${res.status}`,
    typeof body.message === 'string' ? body.message : res.statusText || `HTTP ${res.status}`,
    requestId,
    body.details && typeof body.details === 'object' ? (body.details as Record<string, unknown>) : undefined,
  );
}

/** PUBLIC_URL's path, from where the console is served (…/console/…). */
export function basePathOf(pathname: string): string {
  const at = pathname.indexOf('/console');
  return at > 0 ? pathname.slice(0, at) : '';
}
