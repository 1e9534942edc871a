import { useState } from 'preact/hooks';
import type { Page } from '../api';
import { ErrorMessage, formatDate, Loading, Pager, Section } from '../components';
import { useActions, useApi, useLoad, useMe, useSubmit } from '../hooks';
import { can } from '../permissions';
import { Link, navigate } from '../router';
import { GroupsSection } from './groups-section';

export interface Organization {
  id: string;
  key: string;
  name: string;
  created: string;
}

export interface Project {
  id: string;
  organization: string;
  key: string;
  name: string;
  kind: 'default' | 'course';
  start_date: string | null;
  end_date: string | null;
}

const PAGE_SIZE = 50;

export function OrganizationsPage() {
  const api = useApi();
  const me = useMe();
  const [page, setPage] = useState(1);
  const [search, setSearch] = useState('');
  const list = useLoad(
    () => api.get<Page<Organization>>('/organizations', { page, page_size: PAGE_SIZE, search }),
    [page, search],
  );
  return (
    <div>
      <h1>Organizations</h1>
      <div class="toolbar">
        <label for="org-search">Search</label>
        <input
          id="org-search"
          type="search"
          value={search}
          onInput={(e) => {
            setSearch(e.currentTarget.value);
            setPage(1);
          }}
        />
      </div>
      <ErrorMessage error={list.error} />
      {list.loading && !list.data ? <Loading /> : null}
      {list.data ? (
        list.data.results.length === 0 ? (
          <p>No organization to show.</p>
        ) : (
          <>
            <ul class="link-list">
              {list.data.results.map((o) => (
                <li key={o.id}>
                  <Link to={`/organizations/${o.id}`}>{o.name}</Link> <span class="muted">{o.key}</span>
                </li>
              ))}
            </ul>
            <Pager page={page} pageSize={PAGE_SIZE} count={list.data.count} onPage={setPage} />
          </>
        )
      ) : null}
      {me?.is_staff ? <CreateOrganization /> : null}
    </div>
  );
}

function CreateOrganization() {
  const api = useApi();
  const [key, setKey] = useState('');
  const [name, setName] = useState('');
  const submit = useSubmit(async () => {
    const org = await api.post<Organization>('/organizations', { key, name });
    navigate(`/organizations/${org.id}`);
  });
  return (
    <Section title="New organization" id="new-organization">
      <form class="form" onSubmit={submit.onSubmit}>
        <ErrorMessage error={submit.error} />
        <label for="org-name">Name</label>
        <input id="org-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label for="org-key">Key (lower-case letters, digits, hyphens)</label>
        <input
          id="org-key"
          required
          pattern="[a-z0-9][a-z0-9-]*"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <button type="submit">Create organization</button>
      </form>
    </Section>
  );
}

export function OrganizationPage({ id }: { id: string }) {
  const api = useApi();
  const org = useLoad(() => api.get<Organization>(`/organizations/${id}`), [id]);
  const actions = useActions('Organization', id);
  const [page, setPage] = useState(1);
  const projects = useLoad(
    () => api.get<Page<Project>>('/projects', { organization: id, page, page_size: PAGE_SIZE }),
    [id, page],
  );
  if (org.error) return <ErrorMessage error={org.error} />;
  if (!org.data) return <Loading />;
  return (
    <div>
      <p class="breadcrumbs">
        <Link to="/organizations">Organizations</Link> ›
      </p>
      <h1>{org.data.name}</h1>
      <p class="muted">
        Key <code>{org.data.key}</code> · created {formatDate(org.data.created)}
      </p>
      <ul class="inline-links">
        <li>
          <Link to={`/organizations/${id}/service-accounts`}>Service accounts</Link>
        </li>
        <li>
          <Link to={`/lti-platforms?organization=${id}`}>LTI platforms</Link>
        </li>
        <li>
          <Link to={`/audit?organization=${id}`}>Audit log</Link>
        </li>
      </ul>
      <Section title="Projects" id="projects">
        <ErrorMessage error={projects.error} />
        {projects.data ? (
          projects.data.results.length === 0 ? (
            <p>No project yet.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Start</th>
                    <th scope="col">End</th>
                  </tr>
                </thead>
                <tbody>
                  {projects.data.results.map((p) => (
                    <tr key={p.id}>
                      <td>
                        <Link to={`/projects/${p.id}`}>{p.name}</Link> <span class="muted">{p.key}</span>
                      </td>
                      <td>{p.kind === 'course' ? 'Course' : 'Project'}</td>
                      <td>{p.start_date ?? '—'}</td>
                      <td>{p.end_date ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        ) : (
          <Loading />
        )}
        {projects.data ? <Pager page={page} pageSize={PAGE_SIZE} count={projects.data.count} onPage={setPage} /> : null}
      </Section>
      {can(actions, 'create') || can(actions, 'update') ? <CreateProject organizationId={id} /> : null}
      <GroupsSection organizationId={id} scopeType="organization" scopeId={id} mayCreate={can(actions, 'update')} />
    </div>
  );
}

function CreateProject({ organizationId }: { organizationId: string }) {
  const api = useApi();
  const [form, setForm] = useState({ name: '', key: '', kind: 'course', start_date: '', end_date: '' });
  const submit = useSubmit(async () => {
    const project = await api.post<Project>('/projects', {
      organization: organizationId,
      name: form.name,
      key: form.key,
      kind: form.kind,
      ...(form.start_date ? { start_date: form.start_date } : {}),
      ...(form.end_date ? { end_date: form.end_date } : {}),
    });
    navigate(`/projects/${project.id}`);
  });
  const set = (field: keyof typeof form) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [field]: e.currentTarget.value });
  return (
    <Section title="New project" id="new-project">
      <form class="form" onSubmit={submit.onSubmit}>
        <ErrorMessage error={submit.error} />
        <label for="project-name">Name</label>
        <input id="project-name" required value={form.name} onInput={set('name')} />
        <label for="project-key">Key</label>
        <input id="project-key" required value={form.key} onInput={set('key')} />
        <label for="project-kind">Kind</label>
        <select id="project-kind" value={form.kind} onChange={set('kind')}>
          <option value="course">Course (course accounts, with an end date)</option>
          <option value="default">Project</option>
        </select>
        <div class="form-row">
          <div>
            <label for="project-start">Start date</label>
            <input id="project-start" type="date" value={form.start_date} onInput={set('start_date')} />
          </div>
          <div>
            <label for="project-end">End date{form.kind === 'course' ? ' (required)' : ''}</label>
            <input
              id="project-end"
              type="date"
              required={form.kind === 'course'}
              value={form.end_date}
              onInput={set('end_date')}
            />
          </div>
        </div>
        <button type="submit">Create project</button>
      </form>
    </Section>
  );
}
