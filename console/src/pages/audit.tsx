import { useState } from 'preact/hooks';
import type { Page } from '../api';
import { ErrorMessage, formatDate, fromLocalInput, Loading, Pager } from '../components';
import { useApi, useLoad } from '../hooks';

export interface AuditEvent {
  id: string;
  time: string;
  action: string;
  actor_type: string;
  actor_id: string | null;
  subject_type: string | null;
  subject_id: string | null;
  organization: string | null;
  data: Record<string, unknown>;
  ip: string | null;
}

const PAGE_SIZE = 50;
const FIELDS = ['action', 'subject_type', 'subject_id', 'actor', 'organization', 'since', 'until'] as const;
type Filters = Record<(typeof FIELDS)[number], string>;

const LABELS: Record<keyof Filters, string> = {
  action: 'Action (e.g. auth.login)',
  subject_type: 'Subject type',
  subject_id: 'Subject id',
  actor: 'Actor id',
  organization: 'Organization id',
  since: 'Since',
  until: 'Until',
};

/** Only well-formed filters go to the API (ids are uuids there). */
function queryOf(f: Filters): Record<string, string> {
  const uuid = /^[0-9a-f-]{36}$/i;
  return {
    action: f.action.trim(),
    subject_type: f.subject_type.trim(),
    subject_id: f.subject_id.trim(),
    actor: uuid.test(f.actor.trim()) ? f.actor.trim() : '',
    organization: uuid.test(f.organization.trim()) ? f.organization.trim() : '',
    since: fromLocalInput(f.since) ?? '',
    until: fromLocalInput(f.until) ?? '',
  };
}

export function AuditPage({ query }: { query: URLSearchParams }) {
  const api = useApi();
  const initial = Object.fromEntries(FIELDS.map((k) => [k, query.get(k) ?? ''])) as Filters;
  const [draft, setDraft] = useState<Filters>(initial);
  const [filters, setFilters] = useState<Filters>(initial);
  const [page, setPage] = useState(1);
  const list = useLoad(
    () => api.get<Page<AuditEvent>>('/audit-events', { ...queryOf(filters), page, page_size: PAGE_SIZE }),
    [JSON.stringify(filters), page],
  );
  return (
    <div>
      <h1>Audit log</h1>
      <form
        class="filters"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
          setPage(1);
        }}
      >
        {FIELDS.map((field) => (
          <div key={field}>
            <label for={`audit-${field}`}>{LABELS[field]}</label>
            <input
              id={`audit-${field}`}
              type={field === 'since' || field === 'until' ? 'datetime-local' : 'text'}
              value={draft[field]}
              onInput={(e) => setDraft({ ...draft, [field]: e.currentTarget.value })}
            />
          </div>
        ))}
        <div>
          <button type="submit">Filter</button>
        </div>
      </form>
      <ErrorMessage error={list.error} />
      {list.data ? <AuditTable events={list.data.results} /> : list.error ? null : <Loading />}
      {list.data ? <Pager page={page} pageSize={PAGE_SIZE} count={list.data.count} onPage={setPage} /> : null}
    </div>
  );
}

export function AuditTable({ events }: { events: AuditEvent[] }) {
  if (events.length === 0) return <p>No event matches.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Action</th>
            <th scope="col">Actor</th>
            <th scope="col">Subject</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <td>{formatDate(e.time)}</td>
              <td>
                <code>{e.action}</code>
              </td>
              <td>
                {e.actor_type}
                {e.actor_id ? <span class="muted small"> {e.actor_id}</span> : null}
              </td>
              <td>
                {e.subject_type ?? '—'}
                {e.subject_id ? <span class="muted small"> {e.subject_id}</span> : null}
              </td>
              <td class="small mono">{Object.keys(e.data).length ? JSON.stringify(e.data) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
