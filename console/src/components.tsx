import type { ComponentChildren } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { ApiError } from './api';
import { useApi, useInterval, useLoad } from './hooks';

/** An error as the user should read it: the server's failures with the request id to quote. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError && error.serverFailed) {
    return (
      <div class="alert alert-error" role="alert" data-testid="server-error">
        <p>
          <strong>Something went wrong on the server</strong>
          {error.status ? ` (HTTP ${error.status})` : ''}: {error.message}
        </p>
        {error.requestId ? (
          <p>
            Request id: <code data-testid="request-id">{error.requestId}</code> — quote it when you report this.
          </p>
        ) : null}
      </div>
    );
  }
  if (error instanceof ApiError) {
    return (
      <div class="alert alert-error" role="alert">
        <p>
          {error.message} <span class="muted">({error.code})</span>
        </p>
      </div>
    );
  }
  return (
    <div class="alert alert-error" role="alert">
      <p>{String(error instanceof Error ? error.message : error)}</p>
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p class="muted" role="status">
      {label}
    </p>
  );
}

/** A value to paste elsewhere, with a button that copies it. */
export function CopyValue({ label, value, secret = false }: { label: string; value: string; secret?: boolean }) {
  const [copied, setCopied] = useState(false);
  const id = `copy-${useId()}`;
  return (
    <div class="copy-value">
      <label for={id}>{label}</label>
      <div class="copy-row">
        <input
          id={id}
          readOnly
          value={value}
          class={secret ? 'mono secret' : 'mono'}
          onFocus={(e) => e.currentTarget.select()}
        />
        <button
          type="button"
          class="button-secondary"
          aria-label={`Copy ${label}`}
          onClick={() => {
            void navigator.clipboard?.writeText(value).then(
              () => setCopied(true),
              () => setCopied(false),
            );
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}

const STATE_CLASS: Record<string, string> = {
  PENDING: 'badge-pending',
  OK: 'badge-ok',
  ERRED: 'badge-erred',
  CLOSED: 'badge-closed',
  Pending: 'badge-pending',
  'In Progress': 'badge-pending',
  Retrying: 'badge-pending',
  Succeeded: 'badge-ok',
  Failed: 'badge-erred',
  Canceled: 'badge-closed',
};

export function StateBadge({ state }: { state: string }) {
  return <span class={`badge ${STATE_CLASS[state] ?? ''}`}>{state}</span>;
}

export interface Job {
  job_id: string;
  name: string;
  state: string;
  created: string;
  modified: string;
  completed_steps: number;
  total_steps: number | null;
  attempts: number;
  error: string | null;
  artifacts: { name: string; url: string; content_type: string; size: number }[];
  text: string | null;
}

export const FINISHED_JOB_STATES = ['Succeeded', 'Failed', 'Canceled'];

/** Percent done: steps done of all steps; 100 once Succeeded. */
export function jobPercent(job: Pick<Job, 'state' | 'completed_steps' | 'total_steps'>): number {
  if (job.state === 'Succeeded') return 100;
  if (!job.total_steps) return 0;
  return Math.min(100, Math.floor((job.completed_steps / job.total_steps) * 100));
}

export function ProgressBar({ job }: { job: Job }) {
  const percent = jobPercent(job);
  return (
    <div class="progress">
      <label for={`progress-${job.job_id}`}>
        Progress: <span data-testid="job-percent">{percent}</span> %{' '}
        <span class="muted">
          ({job.completed_steps}
          {job.total_steps !== null ? ` of ${job.total_steps}` : ''} steps)
        </span>
      </label>
      <progress id={`progress-${job.job_id}`} max={100} value={percent}>
        {percent} %
      </progress>
    </div>
  );
}

/** A job's state and progress, polled every second until it is finished. */
export function LiveJob({ jobId, onFinished }: { jobId: string; onFinished?: (job: Job) => void }) {
  const api = useApi();
  const job = useLoad(() => api.get<Job>(`/jobs/${jobId}`), [jobId]);
  const finished = job.data ? FINISHED_JOB_STATES.includes(job.data.state) : false;
  useEffect(() => {
    if (finished && job.data) onFinished?.(job.data);
    // only when it becomes finished
  }, [finished]);
  useInterval(job.reload, 1000, !finished && !job.error);
  if (!job.data) return job.error ? <ErrorMessage error={job.error} /> : <Loading />;
  return (
    <div class="live-job" aria-live="polite">
      <p>
        Job <code>{job.data.name}</code>: <StateBadge state={job.data.state} />
      </p>
      <ProgressBar job={job.data} />
      {job.data.error ? <p class="error-text">{job.data.error}</p> : null}
    </div>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={id ?? undefined}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return '—';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toLocaleString();
}

/** A datetime-local value as an ISO timestamp; '' → null. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** An ISO timestamp as a datetime-local value in the browser's time zone (minutes); null → ''. */
export function toLocalInput(value: string | null | undefined): string {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** Previous / next of a `{ count, next, previous }` page. */
export function Pager({
  page,
  pageSize,
  count,
  onPage,
}: {
  page: number;
  pageSize: number;
  count: number;
  onPage: (page: number) => void;
}) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  if (pages <= 1) return <p class="muted">{count} in all</p>;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" class="button-secondary" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span>
        Page {page} of {pages} ({count} in all)
      </span>
      <button type="button" class="button-secondary" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}
