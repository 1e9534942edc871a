import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { fromLocalInput, toLocalInput } from '../src/components';
import { ApiContext, Me, MeContext } from '../src/hooks';
import { CourseAccountsPage } from '../src/pages/course-accounts';
import { GroupPage } from '../src/pages/group';
import { LtiLandingPage, memberName, memberRoles, RosterMember } from '../src/pages/lti-landing';
import { Call, fakeApi, path } from './fake-api';

afterEach(() => {
  cleanup();
  window.history.replaceState(null, '', '/');
});

const PROJECT = '11111111-1111-4111-8111-111111111111';
const GROUP = '33333333-3333-4333-8333-333333333333';
const USER = '44444444-4444-4444-8444-444444444444';

const member = (over: Partial<RosterMember>): RosterMember => ({
  principal_type: 'user',
  principal_id: USER,
  username: 'ghopper',
  first_name: 'Grace',
  last_name: 'Hopper',
  email: null,
  name: null,
  roles: [{ role: 'project_member', group: GROUP, group_name: 'Learners', expires_at: null }],
  ...over,
});

describe('the LTI landing page', () => {
  /** Lands with a launch id; the exchange answers a session with `role` in the course. */
  async function land(role: string) {
    const { api, calls } = fakeApi((c) => {
      const p = path(c);
      if (p === '/api/v1/lti/launches/L1/exchange')
        return {
          status: 200,
          body: {
            access_token: 'lti-token',
            expires_in: 3600,
            user: { id: 'me', username: 'alovelace', email: null, first_name: 'Ada', last_name: 'Lovelace' },
            project: { id: PROJECT, organization: 'o', key: 'cs101', name: 'Compilers' },
            role,
            course_account: null,
          },
        };
      if (p === `/api/v1/projects/${PROJECT}/members`)
        return {
          status: 200,
          body: {
            count: 2,
            results: [
              member({}),
              member({
                principal_id: 'me',
                username: 'alovelace',
                first_name: 'Ada',
                last_name: 'Lovelace',
                email: 'ada@example.edu',
                roles: [{ role: 'project_manager', group: 'g2', group_name: 'Instructors', expires_at: null }],
              }),
            ],
          },
        };
      if (p === '/api/v1/course-accounts') return { status: 200, body: { count: 0, results: [] } };
      return undefined;
    });
    window.history.replaceState(null, '', '/console/lti?launch_id=L1');
    render(
      <ApiContext.Provider value={api}>
        <LtiLandingPage />
      </ApiContext.Provider>,
    );
    await screen.findByText('Signed in as alovelace.');
    return calls;
  }

  it('shows an instructor the course roster with names, e-mails where given, and roles, under a caption', async () => {
    const calls = await land('project_manager');
    const table = await screen.findByTestId('lti-roster');
    expect(within(table).getByText(/People in this course/).tagName).toBe('CAPTION');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => Array.from(r.children).map((cell) => cell.textContent))).toEqual([
      ['Grace Hopper', 'ghopper', '—', 'Learner'],
      ['Ada Lovelace', 'alovelace', 'ada@example.edu', 'Instructor'],
    ]);
    // The name heads its row, for screen readers reading a cell.
    expect(within(rows[0]).getByRole('rowheader').textContent).toBe('Grace Hopper');
    const asked = calls.find((c) => path(c) === `/api/v1/projects/${PROJECT}/members`)!;
    expect(asked.headers.Authorization).toBe('Bearer lti-token');
  });

  it('shows a learner no roster and does not ask for one', async () => {
    const calls = await land('project_member');
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByTestId('lti-roster')).toBeNull();
    expect(screen.queryByRole('heading', { name: 'Roster' })).toBeNull();
    expect(calls.some((c) => path(c).endsWith('/members'))).toBe(false);
  });

  it('names members and their roles as people say them, each role once', () => {
    expect(memberName(member({}))).toBe('Grace Hopper');
    expect(memberName(member({ first_name: '', last_name: '' }))).toBe('ghopper');
    expect(
      memberName(
        member({
          principal_type: 'service_account',
          username: null,
          first_name: null,
          last_name: null,
          name: 'Grader',
        }),
      ),
    ).toBe('Grader');
    const both = member({
      roles: [
        { role: 'project_member', group: 'a', group_name: 'Lab group', expires_at: null },
        { role: 'project_contributor', group: 'b', group_name: 'Tutors', expires_at: null },
        { role: 'project_member', group: 'c', group_name: 'Learners', expires_at: null },
      ],
    });
    expect(memberRoles(both)).toEqual(['Teaching assistant', 'Learner']);
    expect(
      memberRoles(
        member({ roles: [{ role: 'project_course_account_manager', group: 'd', group_name: 'x', expires_at: null }] }),
      ),
    ).toEqual(['project_course_account_manager']);
  });
});

describe('the group page', () => {
  /** A group with one member expiring at `expires`; the caller has `actions` on the group. */
  async function renderGroup(actions: string[], expires: string | null) {
    let current = expires;
    const { api, calls } = fakeApi((c: Call) => {
      const p = path(c);
      if (p === '/api/v1/auth/session/login') return { status: 200, body: { access_token: 't' } };
      if (p === `/api/v1/groups/${GROUP}`)
        return {
          status: 200,
          body: { id: GROUP, name: 'Tutors', scope_type: 'project', scope_id: PROJECT, role: 'project_contributor' },
        };
      if (p === `/api/v1/groups/${GROUP}/members`)
        return {
          status: 200,
          body: {
            count: 1,
            results: [
              { group_id: GROUP, principal_type: 'user', principal_id: USER, expires_at: current, active: true },
            ],
          },
        };
      if (p === `/api/v1/groups/${GROUP}/members/user/${USER}` && c.method === 'PATCH') {
        current = (c.body as { expires_at: string | null }).expires_at;
        return { status: 200, body: {} };
      }
      if (p === `/api/v1/users/${USER}`) return { status: 200, body: { username: 'tutor1' } };
      if (p === '/api/v1/permissions') return { status: 200, body: { actions } };
      return undefined;
    });
    await api.signIn('x', 'y');
    render(
      <ApiContext.Provider value={api}>
        <MeContext.Provider value={null}>
          <GroupPage id={GROUP} />
        </MeContext.Provider>
      </ApiContext.Provider>,
    );
    await screen.findByText('tutor1');
    return calls;
  }

  it('changes a member’s expiry in place: the field starts at the current expiry, the PATCH carries the new one', async () => {
    const calls = await renderGroup(['read', 'manage_members'], '2099-05-01T12:00:00.000Z');
    fireEvent.click(await screen.findByRole('button', { name: 'Change expiry of tutor1' }));
    const field = screen.getByLabelText('New expiry of tutor1 (empty: never)') as HTMLInputElement;
    expect(field.value).toBe(toLocalInput('2099-05-01T12:00:00.000Z'));
    expect(document.activeElement).toBe(field);
    fireEvent.input(field, { target: { value: '2099-07-15T09:30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save expiry' }));
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Save expiry' })).toBeNull());
    const patch = calls.find((c) => c.method === 'PATCH')!;
    expect(path(patch)).toBe(`/api/v1/groups/${GROUP}/members/user/${USER}`);
    expect(patch.body).toEqual({ expires_at: fromLocalInput('2099-07-15T09:30') });
    // The list was read again and shows the new date.
    await waitFor(() =>
      expect(screen.getByTestId('member-expires').getAttribute('data-expires')).toBe(
        fromLocalInput('2099-07-15T09:30'),
      ),
    );
  });

  it('clears an expiry (never) when the field is emptied, and Escape closes the form without a request', async () => {
    const calls = await renderGroup(['read', 'manage_members'], '2099-05-01T12:00:00.000Z');
    fireEvent.click(await screen.findByRole('button', { name: 'Change expiry of tutor1' }));
    fireEvent.keyDown(screen.getByLabelText(/New expiry of tutor1/), { key: 'Escape' });
    expect(screen.queryByLabelText(/New expiry of tutor1/)).toBeNull();
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Change expiry of tutor1' }));
    fireEvent.input(screen.getByLabelText(/New expiry of tutor1/), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save expiry' }));
    await screen.findByText('Never');
    expect(calls.find((c) => c.method === 'PATCH')!.body).toEqual({ expires_at: null });
  });

  it('hides the expiry and remove buttons from a caller that may not manage the members', async () => {
    const calls = await renderGroup(['read'], null);
    await waitFor(() => expect(calls.some((c) => path(c) === '/api/v1/permissions')).toBe(true));
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByRole('button', { name: /Change expiry/ })).toBeNull();
    expect(screen.queryByRole('button', { name: /Remove/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Add member' })).toBeNull();
  });

  it('reads a datetime-local value back as the same instant', () => {
    const iso = '2099-05-01T12:34:00.000Z';
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso);
    expect(toLocalInput(null)).toBe('');
  });
});

describe('staff recovery on the course accounts page', () => {
  const staff: Me = {
    type: 'user',
    id: 'staff',
    name: 'staff',
    token_kind: 'user',
    is_staff: true,
    is_support: false,
    organizations: [],
    roles: [],
  };

  it('asks for a reason and sends it with set-ok', async () => {
    const erred = {
      id: 'a1',
      state: 'ERRED',
      username: 'u-a1',
      email: 'a1@example.edu',
      description: '',
      project: PROJECT,
      error_message: 'backend said no',
      expires_at: '2030-01-01T00:00:00.000Z',
      closed_at: null,
      created: '2026-01-01T00:00:00.000Z',
    };
    const { api, calls } = fakeApi((c) => {
      const p = path(c);
      if (p === '/api/v1/auth/session/login') return { status: 200, body: { access_token: 't' } };
      if (p === `/api/v1/projects/${PROJECT}`) return { status: 200, body: { id: PROJECT, name: 'Compilers' } };
      if (p === '/api/v1/course-accounts') return { status: 200, body: { count: 1, results: [erred] } };
      if (p === '/api/v1/permissions') return { status: 200, body: { actions: ['manage'] } };
      if (p === '/api/v1/course-accounts/a1/set-ok' && c.method === 'OPTIONS')
        return { status: 204, headers: { Allow: 'POST' } };
      if (p === '/api/v1/course-accounts/a1/set-ok' && c.method === 'POST') return { status: 200, body: {} };
      return undefined;
    });
    await api.signIn('x', 'y');
    render(
      <ApiContext.Provider value={api}>
        <MeContext.Provider value={staff}>
          <CourseAccountsPage projectId={PROJECT} />
        </MeContext.Provider>
      </ApiContext.Provider>,
    );
    fireEvent.click(await screen.findByRole('button', { name: /^Mark OK \(staff recovery\)/ }));
    const submit = screen.getByRole('button', { name: 'Mark OK' }) as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    fireEvent.input(screen.getByLabelText(/Why is the account OK now/), { target: { value: 'Fixed by hand' } });
    fireEvent.click(submit);
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && path(c).endsWith('/set-ok'))).toBe(true));
    expect(calls.find((c) => c.method === 'POST' && path(c).endsWith('/set-ok'))!.body).toEqual({
      reason: 'Fixed by hand',
    });
  });
});
