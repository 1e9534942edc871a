import { useEffect, useRef, useState } from 'preact/hooks';
import type { Page } from '../api';
import { ErrorMessage, formatDate, LiveJob, Loading, Pager, Section, StateBadge } from '../components';
import { parseAccountRows, ParsedRows } from '../csv';
import { useActions, useApi, useLoad, useMe, useSubmit } from '../hooks';
import { can } from '../permissions';
import { Link } from '../router';
import type { Project } from './organizations';

export interface CourseAccount {
  id: string;
  state: 'PENDING' | 'OK' | 'ERRED' | 'CLOSED';
  username: string | null;
  email: string | null;
  description: string;
  project: string;
  error_message: string | null;
  expires_at: string;
  closed_at: string | null;
  created: string;
}

const STATES = ['PENDING', 'OK', 'ERRED', 'CLOSED'] as const;
const PAGE_SIZE = 50;

interface BulkAnswer {
  job_id: string | null;
  course_accounts: CourseAccount[];
  skipped: { row: number; email: string; reason: string }[];
}

export function CourseAccountsPage({ projectId }: { projectId: string }) {
  const api = useApi();
  const me = useMe();
  const project = useLoad(() => api.get<Project>(`/projects/${projectId}`), [projectId]);
  const projectActions = useActions('Project', projectId);
  const [states, setStates] = useState<string[]>([]);
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [page, setPage] = useState(1);
  const list = useLoad(
    () =>
      api.get<Page<CourseAccount>>('/course-accounts', {
        project: projectId,
        state: states,
        username,
        email,
        page,
        page_size: PAGE_SIZE,
        ordering: 'created',
      }),
    [projectId, states.join(','), username, email, page],
  );
  // The rights on one account of the project stand for all of them (roles are per project).
  const sample = list.data?.results[0]?.id ?? null;
  const accountActions = useActions('CourseAccount', sample);
  const mayCreate = sample && accountActions !== null ? can(accountActions, 'create') : can(projectActions, 'update');
  const [bulkAnswer, setBulkAnswer] = useState<BulkAnswer | null>(null);
  const [recoveryRoute, setRecoveryRoute] = useState(false);
  useEffect(() => {
    if (!me?.is_staff || !sample) return;
    void api.hasRoute('POST', `/course-accounts/${sample}/set-ok`).then(setRecoveryRoute);
  }, [sample, me?.is_staff]);
  const [actionError, setActionError] = useState<unknown>(null);

  /** Runs an action on an account, then reads the list again; false (the error shown) when it failed. */
  const act = async (work: () => Promise<unknown>): Promise<boolean> => {
    setActionError(null);
    try {
      await work();
      list.reload();
      return true;
    } catch (e) {
      setActionError(e);
      return false;
    }
  };

  if (project.error) return <ErrorMessage error={project.error} />;
  return (
    <div>
      <p class="breadcrumbs">
        <Link to={`/projects/${projectId}`}>{project.data?.name ?? 'Project'}</Link> ›
      </p>
      <h1>Course accounts{project.data ? ` of ${project.data.name}` : ''}</h1>
      {project.data ? (
        <p class="muted">
          {project.data.start_date ?? '—'} to {project.data.end_date ?? '—'}
        </p>
      ) : null}
      <form class="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <fieldset>
          <legend>State</legend>
          {STATES.map((s) => (
            <label key={s} class="check">
              <input
                type="checkbox"
                checked={states.includes(s)}
                onChange={(e) => {
                  setStates(e.currentTarget.checked ? [...states, s] : states.filter((x) => x !== s));
                  setPage(1);
                }}
              />{' '}
              {s}
            </label>
          ))}
        </fieldset>
        <div>
          <label for="filter-username">Username contains</label>
          <input
            id="filter-username"
            type="search"
            value={username}
            onInput={(e) => {
              setUsername(e.currentTarget.value);
              setPage(1);
            }}
          />
        </div>
        <div>
          <label for="filter-email">E-mail contains</label>
          <input
            id="filter-email"
            type="search"
            value={email}
            onInput={(e) => {
              setEmail(e.currentTarget.value);
              setPage(1);
            }}
          />
        </div>
      </form>
      <ErrorMessage error={list.error ?? actionError} />
      {list.data ? (
        list.data.results.length === 0 ? (
          <p>No course account matches.</p>
        ) : (
          <div class="table-wrap">
            <table data-testid="course-accounts">
              <thead>
                <tr>
                  <th scope="col">E-mail</th>
                  <th scope="col">Username</th>
                  <th scope="col">State</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.data.results.map((a) => (
                  <tr key={a.id} data-state={a.state}>
                    <td>{a.email ?? '—'}</td>
                    <td>{a.username ?? '—'}</td>
                    <td>
                      <StateBadge state={a.state} />
                      {a.state === 'ERRED' && a.error_message ? (
                        <p class="error-text small">{a.error_message}</p>
                      ) : null}
                    </td>
                    <td>{formatDate(a.closed_at ?? a.expires_at)}</td>
                    <td>
                      <div class="actions">
                        {a.state === 'ERRED' && can(accountActions, 'retry') ? (
                          <button type="button" onClick={() => act(() => api.post(`/course-accounts/${a.id}/retry`))}>
                            Retry
                          </button>
                        ) : null}
                        {a.state === 'ERRED' && recoveryRoute ? (
                          <StaffRecovery
                            account={a}
                            onRecover={(reason) => act(() => api.post(`/course-accounts/${a.id}/set-ok`, { reason }))}
                          />
                        ) : null}
                        {a.state !== 'CLOSED' && can(accountActions, 'close') ? (
                          <button
                            type="button"
                            class="button-danger"
                            aria-label={`Close ${a.email ?? a.username ?? a.id}`}
                            onClick={() => {
                              if (window.confirm(`Close the course account of ${a.email ?? a.username}?`))
                                void act(() => api.delete(`/course-accounts/${a.id}`));
                            }}
                          >
                            Close
                          </button>
                        ) : null}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : list.error ? null : (
        <Loading />
      )}
      {list.data ? <Pager page={page} pageSize={PAGE_SIZE} count={list.data.count} onPage={setPage} /> : null}
      {bulkAnswer ? <BulkResult answer={bulkAnswer} onFinished={list.reload} /> : null}
      {mayCreate ? (
        <BulkCreate
          projectId={projectId}
          onCreated={(answer) => {
            setBulkAnswer(answer);
            list.reload();
          }}
        />
      ) : null}
    </div>
  );
}

/**
 * Staff recovery of an ERRED account (`POST /course-accounts/{id}/set-ok { reason }`): the button
 * opens a reason field, the reason goes to the audit log with the move to OK.
 */
function StaffRecovery({
  account,
  onRecover,
}: {
  account: CourseAccount;
  onRecover: (reason: string) => Promise<boolean>;
}) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const reasonInput = useRef<HTMLInputElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(false);
  useEffect(() => {
    if (open) reasonInput.current?.focus();
    else if (wasOpen.current) opener.current?.focus();
    wasOpen.current = open;
  }, [open]);
  const who = account.email ?? account.username ?? account.id;
  if (!open)
    return (
      <button
        type="button"
        class="button-secondary"
        ref={opener}
        aria-label={`Mark OK (staff recovery) ${who}`}
        onClick={() => setOpen(true)}
      >
        Mark OK (staff recovery)
      </button>
    );
  const inputId = `recovery-reason-${account.id}`;
  return (
    <form
      class="inline-form"
      aria-label={`Staff recovery of ${who}`}
      onSubmit={(e) => {
        e.preventDefault();
        void onRecover(reason.trim()).then((done) => done && setOpen(false));
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') setOpen(false);
      }}
    >
      <label for={inputId}>Why is the account OK now? (kept in the audit log)</label>
      <input id={inputId} required ref={reasonInput} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      <button type="submit" disabled={!reason.trim()}>
        Mark OK
      </button>
      <button type="button" class="button-secondary" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </form>
  );
}

/** What a bulk creation did, and its job's live progress. */
function BulkResult({ answer, onFinished }: { answer: BulkAnswer; onFinished: () => void }) {
  return (
    <Section title="Bulk creation" id="bulk-result">
      <p>
        {answer.course_accounts.length} created PENDING
        {answer.skipped.length ? `, ${answer.skipped.length} skipped (already there or repeated)` : ''}.
      </p>
      {answer.job_id ? (
        <>
          <LiveJob key={answer.job_id} jobId={answer.job_id} onFinished={onFinished} />
          <p>
            <Link to={`/jobs/${answer.job_id}`}>Open the job</Link>
          </p>
        </>
      ) : null}
    </Section>
  );
}

function BulkCreate({ projectId, onCreated }: { projectId: string; onCreated: (answer: BulkAnswer) => void }) {
  const api = useApi();
  const [text, setText] = useState('');
  const [parsed, setParsed] = useState<ParsedRows>({ rows: [], problems: [] });
  const update = (value: string) => {
    setText(value);
    setParsed(parseAccountRows(value));
  };
  const submit = useSubmit(async () => {
    const result = await api.post<BulkAnswer>('/course-accounts/bulk', {
      project: projectId,
      course_accounts: parsed.rows,
    });
    update('');
    onCreated(result);
  });
  return (
    <Section title="Create course accounts" id="bulk-create">
      <form class="form" onSubmit={submit.onSubmit}>
        <ErrorMessage error={submit.error} />
        <label for="bulk-list">E-mail addresses, one a line (or CSV: email, description)</label>
        <textarea id="bulk-list" rows={6} value={text} onInput={(e) => update(e.currentTarget.value)} />
        <label for="bulk-file">Or a CSV file</label>
        <input
          id="bulk-file"
          type="file"
          accept=".csv,text/csv,text/plain"
          onChange={async (e) => {
            const file = e.currentTarget.files?.[0];
            if (file) update(await file.text());
          }}
        />
        <p role="status" data-testid="bulk-summary">
          {parsed.rows.length} account{parsed.rows.length === 1 ? '' : 's'} to create
          {parsed.problems.length ? `, ${parsed.problems.length} line(s) skipped` : ''}.
        </p>
        {parsed.problems.length ? (
          <ul class="error-text small">
            {parsed.problems.slice(0, 10).map((p) => (
              <li key={p.line}>
                Line {p.line}: {p.problem}
              </li>
            ))}
          </ul>
        ) : null}
        <button type="submit" disabled={parsed.rows.length === 0}>
          Create {parsed.rows.length || ''} course accounts
        </button>
      </form>
    </Section>
  );
}
