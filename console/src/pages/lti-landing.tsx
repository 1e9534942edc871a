import { useEffect, useState } from 'preact/hooks';
import { ApiError, Page } from '../api';
import { ErrorMessage, formatDate, Loading, Pager, Section, StateBadge } from '../components';
import { useApi, useLoad } from '../hooks';
import type { CourseAccount } from './course-accounts';

export interface LaunchSession {
  access_token: string;
  expires_in: number;
  user: { id: string; username: string; email: string | null; first_name: string; last_name: string };
  project: { id: string; organization: string; key: string; name: string } | null;
  role: string | null;
  course_account: {
    id: string;
    state: string;
    username: string | null;
    error_message: string | null;
    expires_at: string;
  } | null;
}

const ROLE_LABELS: Record<string, string> = {
  project_manager: 'Instructor',
  project_contributor: 'Teaching assistant',
  project_member: 'Learner',
};

/** Staff roles of the course see its roster and accounts. */
export function isCourseStaff(role: string | null): boolean {
  return role === 'project_manager' || role === 'project_contributor';
}

/** What a learner reads about the course account, by its state. */
export function accountInstructions(state: string): string {
  switch (state) {
    case 'OK':
      return 'Your account is ready: sign in to the course’s systems with this username.';
    case 'PENDING':
      return 'Your account is being created: open this page again in a minute.';
    case 'ERRED':
      return 'Creating your account failed; your instructor has been told and can retry it.';
    case 'CLOSED':
      return 'This account is closed: the course has ended.';
    default:
      return '';
  }
}

/**
 * Where an LTI launch lands (`/console/lti?launch_id=…`): the one-time id is taken out of the
 * address at once and exchanged for the session, whose token stays in memory (the page may run in
 * an LMS iframe where the browser refuses our cookies).
 */
export function LtiLandingPage() {
  const api = useApi();
  const [session, setSession] = useState<LaunchSession | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    const params = new URLSearchParams(window.location.search);
    const launchId = params.get('launch_id');
    if (!launchId) {
      setMissing(true);
      return;
    }
    params.delete('launch_id');
    const rest = params.toString();
    window.history.replaceState(null, '', `${window.location.pathname}${rest ? `?${rest}` : ''}`);
    api.exchangeLaunch<LaunchSession>(launchId).then(setSession, setError);
  }, [api]);

  const state = session ? 'signed-in' : error || missing ? 'failed' : 'signing-in';
  return (
    <main id="main" class="lti">
      <h1>{session?.project?.name ?? 'Campus Access'}</h1>
      <p id="status" data-state={state} role="status">
        {state === 'signing-in' ? 'Signing in…' : null}
        {missing ? 'No launch to sign in with: open the link from your course.' : null}
        {session ? `Signed in as ${session.user.username}.` : null}
        {error ? 'Sign-in failed.' : null}
      </p>
      {error instanceof ApiError && !error.serverFailed ? (
        <div class="alert alert-error" role="alert">
          <p>
            {error.code === 'launch_already_exchanged' || error.code === 'launch_expired'
              ? 'This launch was already used or is too old: open the link in your course again.'
              : error.message}
          </p>
        </div>
      ) : (
        <ErrorMessage error={error} />
      )}
      {session ? <LaunchSummary session={session} /> : null}
      {session?.project && isCourseStaff(session.role) ? <CourseRoster projectId={session.project.id} /> : null}
    </main>
  );
}

function LaunchSummary({ session }: { session: LaunchSession }) {
  const account = session.course_account;
  const name = [session.user.first_name, session.user.last_name].filter(Boolean).join(' ');
  return (
    <Section title="Your access" id="your-access">
      <dl class="facts">
        <dt>Name</dt>
        <dd data-testid="lti-user">{name || session.user.username}</dd>
        {session.user.email ? (
          <>
            <dt>E-mail</dt>
            <dd data-testid="lti-email">{session.user.email}</dd>
          </>
        ) : null}
        <dt>Course</dt>
        <dd data-testid="lti-course">{session.project?.name ?? 'No course in this launch'}</dd>
        <dt>Role</dt>
        <dd data-testid="lti-role" data-role={session.role ?? ''}>
          {session.role ? (ROLE_LABELS[session.role] ?? session.role) : '—'}
        </dd>
      </dl>
      {account ? (
        <div
          class="card course-account"
          data-testid="lti-course-account"
          data-state={account.state}
          data-account-id={account.id}
        >
          <h3>Your course account</h3>
          <dl class="facts">
            <dt>Username</dt>
            <dd>
              <code data-testid="lti-account-username">{account.username ?? '(not yet given)'}</code>
            </dd>
            <dt>State</dt>
            <dd>
              <StateBadge state={account.state} />
            </dd>
            <dt>Expires</dt>
            <dd>{formatDate(account.expires_at)}</dd>
          </dl>
          <p>{accountInstructions(account.state)}</p>
          {account.state === 'ERRED' && account.error_message ? (
            <p class="error-text small">{account.error_message}</p>
          ) : null}
        </div>
      ) : (
        <p>No course account comes with this course.</p>
      )}
    </Section>
  );
}

/** A member of the course's roster (`GET /api/v1/projects/{id}/members`). */
export interface RosterMember {
  principal_type: 'user' | 'service_account';
  principal_id: string;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  /** Only where the caller may read the user; null otherwise. */
  email: string | null;
  /** A service account's name. */
  name: string | null;
  roles: { role: string; group: string; group_name: string; expires_at: string | null }[];
}

const ROSTER_PAGE_SIZE = 100;

/** How a roster member is named: first and last name, else the username, else the service account's name. */
export function memberName(m: RosterMember): string {
  const full = [m.first_name, m.last_name].filter(Boolean).join(' ');
  return full || m.username || m.name || m.principal_id;
}

/** A member's roles in the course, as people call them, each once, highest first. */
export function memberRoles(m: RosterMember): string[] {
  const order = Object.keys(ROLE_LABELS);
  const roles = [...new Set(m.roles.map((r) => r.role))].sort((a, b) => {
    const [i, j] = [order.indexOf(a), order.indexOf(b)];
    return (i < 0 ? order.length : i) - (j < 0 ? order.length : j) || a.localeCompare(b);
  });
  return roles.map((r) => ROLE_LABELS[r] ?? r);
}

/** The course's roster with names and roles, and its course accounts (what an instructor may read). */
function CourseRoster({ projectId }: { projectId: string }) {
  const api = useApi();
  const [page, setPage] = useState(1);
  const roster = useLoad(
    () => api.get<Page<RosterMember>>(`/projects/${projectId}/members`, { page, page_size: ROSTER_PAGE_SIZE }),
    [projectId, page],
  );
  const accounts = useLoad(
    () =>
      api.get<Page<CourseAccount>>('/course-accounts', { project: projectId, page_size: 200, ordering: 'username' }),
    [projectId],
  );
  return (
    <>
      <Section title="Roster" id="roster">
        <ErrorMessage error={roster.error} />
        {roster.data ? (
          roster.data.results.length === 0 ? (
            <p>Nobody is in this course yet.</p>
          ) : (
            <div class="table-wrap">
              <table data-testid="lti-roster">
                <caption>
                  People in this course and their roles ({roster.data.count} in all). E-mail addresses show only where
                  you may see them.
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Username</th>
                    <th scope="col">E-mail</th>
                    <th scope="col">Role</th>
                  </tr>
                </thead>
                <tbody>
                  {roster.data.results.map((m) => (
                    <tr key={`${m.principal_type}-${m.principal_id}`} data-member-id={m.principal_id}>
                      <th scope="row">{memberName(m)}</th>
                      <td>{m.principal_type === 'user' ? (m.username ?? '—') : 'Service account'}</td>
                      <td>{m.email ?? '—'}</td>
                      <td>{memberRoles(m).join(', ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        ) : roster.error ? null : (
          <Loading />
        )}
        {roster.data ? (
          <Pager page={page} pageSize={ROSTER_PAGE_SIZE} count={roster.data.count} onPage={setPage} />
        ) : null}
      </Section>
      <Section title="Course accounts" id="course-accounts">
        <ErrorMessage error={accounts.error} />
        {accounts.data ? (
          accounts.data.results.length === 0 ? (
            <p>No course account yet.</p>
          ) : (
            <div class="table-wrap">
              <table data-testid="lti-roster-accounts">
                <caption>The course accounts of this course.</caption>
                <thead>
                  <tr>
                    <th scope="col">E-mail</th>
                    <th scope="col">Username</th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  {accounts.data.results.map((a) => (
                    <tr key={a.id}>
                      <td>{a.email ?? '—'}</td>
                      <td>{a.username ?? '—'}</td>
                      <td>
                        <StateBadge state={a.state} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        ) : accounts.error ? null : (
          <Loading />
        )}
      </Section>
    </>
  );
}
