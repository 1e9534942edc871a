import { useState } from 'preact/hooks';
import type { Page } from '../api';
import {
  ErrorMessage,
  FINISHED_JOB_STATES,
  formatDate,
  Job,
  Loading,
  Pager,
  ProgressBar,
  StateBadge,
} from '../components';
import { useActions, useApi, useInterval, useLoad } from '../hooks';
import { can } from '../permissions';
import { Link } from '../router';

const PAGE_SIZE = 50;
const JOB_STATES = ['Pending', 'In Progress', 'Retrying', 'Succeeded', 'Failed', 'Canceled'];

export function JobsPage() {
  const api = useApi();
  const [state, setState] = useState('');
  const [page, setPage] = useState(1);
  const list = useLoad(() => api.get<Page<Job>>('/jobs', { state, page, page_size: PAGE_SIZE }), [state, page]);
  const running = list.data?.results.some((j) => !FINISHED_JOB_STATES.includes(j.state)) ?? false;
  useInterval(list.reload, 2000, running);
  return (
    <div>
      <h1>Jobs</h1>
      <div class="toolbar">
        <label for="job-state">State</label>
        <select
          id="job-state"
          value={state}
          onChange={(e) => {
            setState(e.currentTarget.value);
            setPage(1);
          }}
        >
          <option value="">Any</option>
          {JOB_STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <ErrorMessage error={list.error} />
      {list.data ? (
        list.data.results.length === 0 ? (
          <p>No job.</p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">State</th>
                  <th scope="col">Progress</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {list.data.results.map((j) => (
                  <tr key={j.job_id}>
                    <td>
                      <Link to={`/jobs/${j.job_id}`}>{j.name}</Link>
                    </td>
                    <td>
                      <StateBadge state={j.state} />
                    </td>
                    <td>
                      {j.completed_steps}
                      {j.total_steps !== null ? ` / ${j.total_steps}` : ''}
                    </td>
                    <td>{formatDate(j.created)}</td>
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
    </div>
  );
}

/** Downloads an artifact with the access token (a plain link could not carry it). */
async function download(api: ReturnType<typeof useApi>, url: string, name: string): Promise<void> {
  const path = new URL(url, window.location.origin).pathname.replace(/^.*?(\/api\/v1\/)/, '$1');
  const res = await api.request<Response>('GET', path, { raw: true });
  const blob = await res.blob();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

export function JobPage({ id }: { id: string }) {
  const api = useApi();
  const job = useLoad(() => api.get<Job>(`/jobs/${id}`), [id]);
  const actions = useActions('Job', id);
  const [error, setError] = useState<unknown>(null);
  const finished = job.data ? FINISHED_JOB_STATES.includes(job.data.state) : false;
  useInterval(job.reload, 1000, !!job.data && !finished && !job.error);
  if (job.error && !job.data) return <ErrorMessage error={job.error} />;
  if (!job.data) return <Loading />;
  const j = job.data;
  return (
    <div>
      <p class="breadcrumbs">
        <Link to="/jobs">Jobs</Link> ›
      </p>
      <h1>
        Job <code>{j.name}</code>
      </h1>
      <p aria-live="polite">
        <StateBadge state={j.state} /> · attempt {j.attempts} · created {formatDate(j.created)} · changed{' '}
        {formatDate(j.modified)}
      </p>
      <ProgressBar job={j} />
      {j.text ? <p>{j.text}</p> : null}
      {j.error ? <p class="error-text">{j.error}</p> : null}
      <ErrorMessage error={error} />
      {!finished && can(actions, 'cancel') ? (
        <button
          type="button"
          class="button-danger"
          onClick={async () => {
            setError(null);
            try {
              await api.post(`/jobs/${id}/cancel`);
              job.reload();
            } catch (e) {
              setError(e);
            }
          }}
        >
          Cancel job
        </button>
      ) : null}
      {j.artifacts.length ? (
        <section class="card">
          <h2>Artifacts</h2>
          <ul>
            {j.artifacts.map((a) => (
              <li key={a.name}>
                <button type="button" class="button-link" onClick={() => download(api, a.url, a.name).catch(setError)}>
                  Download {a.name}
                </button>{' '}
                <span class="muted">
                  ({a.content_type}, {a.size} bytes)
                </span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
