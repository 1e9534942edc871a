import { useEffect, useState } from 'preact/hooks';
import { ApiClient, ApiError } from './api';
import { ErrorMessage, Loading } from './components';
import { ApiContext, Me, MeContext } from './hooks';
import { AuditPage } from './pages/audit';
import { CourseAccountsPage } from './pages/course-accounts';
import { GroupPage } from './pages/group';
import { JobPage, JobsPage } from './pages/jobs';
import { LtiLandingPage } from './pages/lti-landing';
import { LtiPlatformPage, LtiPlatformsPage } from './pages/lti-platforms';
import { OrganizationPage, OrganizationsPage } from './pages/organizations';
import { PasswordPage } from './pages/password';
import { ProjectPage } from './pages/project';
import { ServiceAccountsPage } from './pages/service-accounts';
import { SignInPage } from './pages/sign-in';
import { Link, match, navigate, useLocation } from './router';

type Route = [pattern: string, render: (params: Record<string, string>, query: URLSearchParams) => preact.JSX.Element];

const ROUTES: Route[] = [
  ['/', () => <OrganizationsPage />],
  ['/organizations', () => <OrganizationsPage />],
  ['/organizations/:id', (p) => <OrganizationPage id={p.id} />],
  ['/organizations/:id/service-accounts', (p) => <ServiceAccountsPage organizationId={p.id} />],
  ['/projects/:id', (p) => <ProjectPage id={p.id} />],
  ['/projects/:id/course-accounts', (p) => <CourseAccountsPage projectId={p.id} />],
  ['/groups/:id', (p) => <GroupPage id={p.id} />],
  ['/jobs', () => <JobsPage />],
  ['/jobs/:id', (p) => <JobPage id={p.id} />],
  ['/audit', (_p, q) => <AuditPage query={q} />],
  ['/lti-platforms', (_p, q) => <LtiPlatformsPage organizationId={q.get('organization')} />],
  ['/lti-platforms/:id', (p) => <LtiPlatformPage id={p.id} />],
  ['/password', () => <PasswordPage />],
];

/** The signed-in console: the navigation and the page of the path. */
function Shell({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const { path, query } = useLocation();
  let page: preact.JSX.Element | null = null;
  for (const [pattern, render] of ROUTES) {
    const params = match(pattern, path);
    if (params) {
      page = render(params, query);
      break;
    }
  }
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link to="/" class="brand">
          Campus Access
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <Link to="/organizations">Organizations</Link>
            </li>
            <li>
              <Link to="/jobs">Jobs</Link>
            </li>
            <li>
              <Link to="/audit">Audit log</Link>
            </li>
            <li>
              <Link to="/lti-platforms">LTI platforms</Link>
            </li>
            <li>
              <Link to="/password">Change password</Link>
            </li>
          </ul>
        </nav>
        <div class="whoami">
          <span data-testid="signed-in-as">{me.name}</span>
          <button type="button" class="button-secondary" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page ?? (
          <div>
            <h1>Not found</h1>
            <p>
              There is no such page. <Link to="/">Go to the organizations.</Link>
            </p>
          </div>
        )}
      </main>
    </>
  );
}

/** Signs in (or restores the session from its cookie), then shows the console; back to sign-in on a 401. */
export function ConsoleApp({ api }: { api: ApiClient }) {
  const [me, setMe] = useState<Me | null>(null);
  const [state, setState] = useState<'starting' | 'signed-out' | 'signed-in' | 'failed'>('starting');
  const [error, setError] = useState<unknown>(null);
  const { path, query } = useLocation();

  const loadMe = async () => {
    try {
      setMe(await api.get<Me>('/auth/me'));
      setState('signed-in');
      setError(null);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setState('signed-out');
      else {
        setError(e);
        setState('failed');
      }
    }
  };

  useEffect(() => {
    const off = api.onSignedOut(() => {
      setMe(null);
      setState('signed-out');
    });
    void api
      .refresh()
      .then((ok) => (ok ? loadMe() : setState('signed-out')))
      .catch((e: unknown) => {
        setError(e);
        setState('failed');
      });
    return off;
  }, [api]);

  useEffect(() => {
    if (state === 'signed-out' && path !== '/sign-in') {
      const next = path === '/' ? '' : `?next=${encodeURIComponent(path + window.location.search)}`;
      navigate(`/sign-in${next}`, { replace: true });
    }
    if (state === 'signed-in' && path === '/sign-in') navigate(safeNext(query.get('next')), { replace: true });
  }, [state, path]);

  return (
    <ApiContext.Provider value={api}>
      <MeContext.Provider value={me}>
        {state === 'starting' ? <Loading /> : null}
        {state === 'failed' ? (
          <main id="main" class="narrow">
            <h1>Campus Access</h1>
            <ErrorMessage error={error} />
            <button type="button" onClick={() => window.location.reload()}>
              Try again
            </button>
          </main>
        ) : null}
        {state === 'signed-out' ? <SignInPage onSignedIn={loadMe} /> : null}
        {state === 'signed-in' && me ? (
          <Shell
            me={me}
            onSignOut={() => {
              void api.signOut().catch(() => undefined);
            }}
          />
        ) : null}
      </MeContext.Provider>
    </ApiContext.Provider>
  );
}

/** Only a console path: a `next` that leaves the console (`//host`, a scheme) goes home instead. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/';
  return next;
}

/** The LTI landing page runs alone: no sign-in, no cookie, the launch's token in memory only. */
export function LtiApp({ api }: { api: ApiClient }) {
  return (
    <ApiContext.Provider value={api}>
      <LtiLandingPage />
    </ApiContext.Provider>
  );
}
