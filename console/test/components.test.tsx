import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../src/api';
import { safeNext } from '../src/app';
import { ErrorMessage, jobPercent, LiveJob } from '../src/components';
import { ApiContext, MeContext, useSubmit } from '../src/hooks';
import { CourseAccountsPage } from '../src/pages/course-accounts';
import { accountInstructions, isCourseStaff } from '../src/pages/lti-landing';
import { LtiPlatformPage, PlatformLaunch, roleName } from '../src/pages/lti-platforms';
import { can } from '../src/permissions';
import { fakeApi, path } from './fake-api';

afterEach(cleanup);

const PROJECT = '11111111-1111-4111-8111-111111111111';
const account = (id: string, state: string) => ({
  id,
  state,
  username: `u-${id}`,
  email: `${id}@example.edu`,
  description: '',
  project: PROJECT,
  error_message: state === 'ERRED' ? 'backend said no' : null,
  expires_at: '2030-01-01T00:00:00.000Z',
  closed_at: null,
  created: '2026-01-01T00:00:00.000Z',
});

/** The course accounts page over a fake API in which the caller has `actions` on the accounts. */
async function renderCourseAccounts(actions: string[]) {
  const { api, calls } = fakeApi((c) => {
    const p = path(c);
    if (p === '/api/v1/auth/session/login') return { status: 200, body: { access_token: 't' } };
    if (p === `/api/v1/projects/${PROJECT}`)
      return { status: 200, body: { id: PROJECT, name: 'Compilers', kind: 'course', organization: 'o' } };
    if (p === '/api/v1/course-accounts')
      return { status: 200, body: { count: 2, results: [account('a1', 'OK'), account('a2', 'ERRED')] } };
    if (p === '/api/v1/permissions') {
      const type = new URL(c.url, 'http://x').searchParams.get('object_type');
      return { status: 200, body: { actions: type === 'CourseAccount' ? actions : ['read'] } };
    }
    return undefined;
  });
  await api.signIn('x', 'y');
  render(
    <ApiContext.Provider value={api}>
      <MeContext.Provider value={null}>
        <CourseAccountsPage projectId={PROJECT} />
      </MeContext.Provider>
    </ApiContext.Provider>,
  );
  await screen.findByText('a1@example.edu');
  return calls;
}

describe('the course accounts page', () => {
  it('shows state badges and the error of an ERRED account', async () => {
    await renderCourseAccounts(['read']);
    const table = within(screen.getByTestId('course-accounts'));
    expect(table.getByText('OK').className).toContain('badge-ok');
    expect(table.getByText('ERRED').className).toContain('badge-erred');
    expect(screen.getByText('backend said no')).toBeTruthy();
  });

  it('hides close, retry and creation from a caller that may only read', async () => {
    const calls = await renderCourseAccounts(['read']);
    await waitFor(() => expect(calls.some((c) => path(c) === '/api/v1/permissions')).toBe(true));
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByRole('button', { name: /^Close/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull();
    expect(screen.queryByLabelText(/E-mail addresses/)).toBeNull();
  });

  it('shows them to a caller the API allows', async () => {
    await renderCourseAccounts(['read', 'create', 'retry', 'close']);
    await screen.findAllByRole('button', { name: /^Close/ });
    expect(screen.getAllByRole('button', { name: /^Close/ })).toHaveLength(2);
    expect(screen.getAllByRole('button', { name: 'Retry' })).toHaveLength(1);
    expect(screen.getByLabelText(/E-mail addresses/)).toBeTruthy();
  });

  it('counts the pasted rows before creating them', async () => {
    await renderCourseAccounts(['read', 'create']);
    const box = await screen.findByLabelText(/E-mail addresses/);
    fireEvent.input(box, { target: { value: 'a@example.edu\nb@example.edu\nnope' } });
    expect(screen.getByTestId('bulk-summary').textContent).toContain('2 accounts to create, 1 line(s) skipped');
  });

  it('filters by state through the API', async () => {
    const calls = await renderCourseAccounts(['read']);
    fireEvent.click(screen.getByLabelText('ERRED'));
    await waitFor(() =>
      expect(calls.some((c) => path(c) === '/api/v1/course-accounts' && c.url.includes('state=ERRED'))).toBe(true),
    );
  });
});

describe('ErrorMessage', () => {
  it('shows a server failure with its request id', () => {
    render(<ErrorMessage error={new ApiError(500, 'internal_error', 'Internal error.', 'req-7')} />);
    expect(screen.getByRole('alert').textContent).toContain('Something went wrong on the server');
    expect(screen.getByTestId('request-id').textContent).toBe('req-7');
  });

  it('shows a refusal with its message and code, no request id', () => {
    render(<ErrorMessage error={new ApiError(409, 'duplicate_key', 'The key is taken.', 'req-8')} />);
    expect(screen.getByRole('alert').textContent).toContain('The key is taken. (duplicate_key)');
    expect(screen.queryByTestId('request-id')).toBeNull();
  });
});

describe('jobs', () => {
  it('computes the progress from the steps', () => {
    expect(jobPercent({ state: 'In Progress', completed_steps: 5, total_steps: 20 })).toBe(25);
    expect(jobPercent({ state: 'Pending', completed_steps: 0, total_steps: null })).toBe(0);
    expect(jobPercent({ state: 'Succeeded', completed_steps: 0, total_steps: null })).toBe(100);
  });

  it('polls a running job until it is finished', async () => {
    let polls = 0;
    const { api } = fakeApi((c) => {
      if (path(c) === '/api/v1/auth/session/login') return { status: 200, body: { access_token: 't' } };
      polls++;
      const done = polls >= 2;
      return {
        status: 200,
        body: {
          job_id: 'j',
          name: 'course_accounts.create',
          state: done ? 'Succeeded' : 'In Progress',
          completed_steps: done ? 4 : 1,
          total_steps: 4,
          artifacts: [],
          error: null,
        },
      };
    });
    await api.signIn('x', 'y');
    render(
      <ApiContext.Provider value={api}>
        <LiveJob jobId="j" />
      </ApiContext.Provider>,
    );
    await screen.findByText('In Progress');
    expect(screen.getByTestId('job-percent').textContent).toBe('25');
    await screen.findByText('Succeeded', {}, { timeout: 3000 });
    expect(screen.getByTestId('job-percent').textContent).toBe('100');
    expect((screen.getByRole('progressbar') as HTMLProgressElement).value).toBe(100);
  });
});

describe('small rules', () => {
  it('`manage` stands for every action', () => {
    expect(can(['manage'], 'close')).toBe(true);
    expect(can(['read'], 'close')).toBe(false);
    expect(can(null, 'read')).toBe(false);
  });

  it('a sign-in’s next page stays in the console', () => {
    expect(safeNext('/jobs/1')).toBe('/jobs/1');
    expect(safeNext('//evil.example/x')).toBe('/');
    expect(safeNext('https://evil.example')).toBe('/');
    expect(safeNext('/\\evil')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });

  it('LTI: instructors and TAs are course staff; learners read what their account state means', () => {
    expect(isCourseStaff('project_manager')).toBe(true);
    expect(isCourseStaff('project_member')).toBe(false);
    expect(accountInstructions('OK')).toMatch(/ready/);
    expect(accountInstructions('PENDING')).toMatch(/being created/);
  });
});

describe('the LTI platform page', () => {
  const PLATFORM = '22222222-2222-4222-8222-222222222222';
  const launch = (n: number): PlatformLaunch => ({
    id: `launch-${n}`,
    created_at: '2026-01-01T00:00:00.000Z',
    message_type: 'LtiResourceLinkRequest',
    user: `user-${n}`,
    deployment_id: 'd1',
    context: n % 2 ? `ctx-${n}` : null,
    project: n % 2 ? `project-${n}` : null,
    resource_link: `link-${n}`,
    roles: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'],
  });

  it('lists the platform’s launches from its launches route, page by page', async () => {
    const { api, calls } = fakeApi((c) => {
      const p = path(c);
      if (p === '/api/v1/auth/session/login') return { status: 200, body: { access_token: 't' } };
      if (p === `/api/v1/lti/platforms/${PLATFORM}`)
        return {
          status: 200,
          body: {
            id: PLATFORM,
            organization: 'o',
            name: 'Moodle',
            issuer: 'https://moodle.example.edu',
            client_id: 'c',
            deployment_ids: ['d1'],
            course_accounts_on_launch: 'never',
            created: '2026-01-01T00:00:00.000Z',
            tool: { login_initiation_url: 'l', redirect_url: 'r', target_link_url: 't', jwks_url: 'j', domain: 'd' },
          },
        };
      if (p === `/api/v1/lti/platforms/${PLATFORM}/launches`) {
        const page = Number(new URL(c.url, 'http://x').searchParams.get('page') ?? '1');
        return { status: 200, body: { count: 51, results: page === 1 ? [launch(1), launch(2)] : [launch(51)] } };
      }
      return undefined;
    });
    await api.signIn('x', 'y');
    render(
      <ApiContext.Provider value={api}>
        <MeContext.Provider value={null}>
          <LtiPlatformPage id={PLATFORM} />
        </MeContext.Provider>
      </ApiContext.Provider>,
    );
    await screen.findByText('user-1');
    const table = screen.getByTestId('platform-launches');
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(within(table).getAllByText('Learner')).toHaveLength(2);
    expect(within(table).getByRole('link', { name: 'Project' }).getAttribute('href')).toContain('/projects/project-1');
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByText('user-51');
    const asked = calls.filter((c) => path(c) === `/api/v1/lti/platforms/${PLATFORM}/launches`);
    expect(asked.map((c) => new URL(c.url, 'http://x').searchParams.get('page'))).toEqual(['1', '2']);
    expect(calls.some((c) => path(c).startsWith('/api/v1/audit-events'))).toBe(false);
  });

  it('names a role by its last part', () => {
    expect(roleName('http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor')).toBe('Instructor');
    expect(roleName('http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant')).toBe(
      'TeachingAssistant',
    );
    expect(roleName('Learner')).toBe('Learner');
  });
});

describe('useSubmit', () => {
  function Form({ action }: { action: () => Promise<void> }) {
    const submit = useSubmit(action);
    return (
      <form onSubmit={submit.onSubmit}>
        <ErrorMessage error={submit.error} />
        <button type="submit" disabled={submit.busy}>
          {submit.busy ? 'Sending…' : 'Send'}
        </button>
      </form>
    );
  }

  it('shows the failed try’s error, is busy while a try runs, and clears the error on the next one', async () => {
    let finish: () => void = () => {};
    const tries = [
      () => Promise.reject(new ApiError(409, 'conflict', 'Already there.', 'req-1')),
      () => new Promise<void>((resolve) => (finish = resolve)),
    ];
    let n = 0;
    render(<Form action={() => tries[n++]()} />);
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('Already there.'));
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Sending…' })).toHaveProperty('disabled', true));
    expect(screen.queryByRole('alert')).toBeNull();
    finish();
    await waitFor(() => expect(screen.getByRole('button', { name: 'Send' })).toHaveProperty('disabled', false));
    expect(n).toBe(2);
  });
});
