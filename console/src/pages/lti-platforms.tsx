import { useState } from 'preact/hooks';
import type { Page } from '../api';
import { CopyValue, ErrorMessage, formatDate, Loading, Pager, Section } from '../components';
import { useActions, useApi, useLoad, useSubmit } from '../hooks';
import { can } from '../permissions';
import { Link, navigate } from '../router';
import type { Organization } from './organizations';

interface ToolConfig {
  login_initiation_url: string;
  redirect_url: string;
  target_link_url: string;
  jwks_url: string;
  public_key_pem: string | null;
  domain: string;
}

interface Platform {
  id: string;
  organization: string;
  name: string;
  issuer: string;
  client_id: string;
  auth_login_url: string;
  auth_token_url: string;
  jwks_url: string;
  deployment_ids: string[];
  course_accounts_on_launch: string;
  created: string;
  tool: ToolConfig;
}

/** One launch of the platform (`GET /lti/platforms/{id}/launches`): references, never claims. */
export interface PlatformLaunch {
  id: string;
  created_at: string;
  message_type: string;
  user: string;
  deployment_id: string;
  context: string | null;
  project: string | null;
  resource_link: string | null;
  roles: string[];
}

const LAUNCHES_PAGE_SIZE = 50;

/** `http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor` → `Instructor` (sub-roles keep their path). */
export function roleName(uri: string): string {
  const hash = uri.lastIndexOf('#');
  return hash >= 0 ? uri.slice(hash + 1) : uri;
}

export function ToolValues({ tool }: { tool: ToolConfig }) {
  return (
    <div class="tool-values">
      <p>Paste these values into the LMS’s registration of the tool:</p>
      <CopyValue label="Login initiation URL" value={tool.login_initiation_url} />
      <CopyValue label="Redirect (launch) URL" value={tool.redirect_url} />
      <CopyValue label="Target link URL" value={tool.target_link_url} />
      <CopyValue label="Public keyset (JWKS) URL" value={tool.jwks_url} />
      <CopyValue label="Domain" value={tool.domain} />
      {tool.public_key_pem ? <CopyValue label="Public key (PEM)" value={tool.public_key_pem} /> : null}
    </div>
  );
}

export function LtiPlatformsPage({ organizationId }: { organizationId: string | null }) {
  const api = useApi();
  const list = useLoad(
    () => api.get<Page<Platform>>('/lti/platforms', { organization: organizationId, page_size: 100 }),
    [organizationId],
  );
  const orgs = useLoad(() => api.get<Page<Organization>>('/organizations', { page_size: 200 }), []);
  return (
    <div>
      <h1>LTI platforms</h1>
      <ErrorMessage error={list.error} />
      {list.data ? (
        list.data.results.length === 0 ? (
          <p>No LMS registered yet.</p>
        ) : (
          <ul class="link-list">
            {list.data.results.map((p) => (
              <li key={p.id}>
                <Link to={`/lti-platforms/${p.id}`}>{p.name || p.issuer}</Link>{' '}
                <span class="muted">
                  {p.issuer} · client {p.client_id}
                </span>
              </li>
            ))}
          </ul>
        )
      ) : list.error ? null : (
        <Loading />
      )}
      {orgs.data && orgs.data.results.length ? (
        <RegisterPlatform organizations={orgs.data.results} preset={organizationId} />
      ) : null}
    </div>
  );
}

function RegisterPlatform({ organizations, preset }: { organizations: Organization[]; preset: string | null }) {
  const api = useApi();
  const [organization, setOrganization] = useState(preset ?? organizations[0].id);
  const actions = useActions('Organization', organization);
  const [form, setForm] = useState({
    name: '',
    issuer: '',
    client_id: '',
    auth_login_url: '',
    auth_token_url: '',
    jwks_url: '',
    deployment_ids: '',
    course_accounts_on_launch: 'never',
  });
  const submit = useSubmit(async () => {
    const platform = await api.post<Platform>('/lti/platforms', {
      ...form,
      organization,
      deployment_ids: form.deployment_ids.split(/[\s,]+/).filter(Boolean),
    });
    navigate(`/lti-platforms/${platform.id}`);
  });
  const set = (field: keyof typeof form) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [field]: e.currentTarget.value });
  const fields: [keyof typeof form, string, string][] = [
    ['name', 'Name', 'text'],
    ['issuer', 'Issuer', 'url'],
    ['client_id', 'Client id (given by the LMS)', 'text'],
    ['auth_login_url', 'OIDC authorization URL', 'url'],
    ['auth_token_url', 'Access token URL', 'url'],
    ['jwks_url', 'Platform keyset (JWKS) URL', 'url'],
    ['deployment_ids', 'Deployment ids (comma separated)', 'text'],
  ];
  return (
    <Section title="Register an LMS" id="register-platform">
      <form class="form" onSubmit={submit.onSubmit}>
        <ErrorMessage error={submit.error} />
        <label for="platform-organization">Organization</label>
        <select
          id="platform-organization"
          value={organization}
          onChange={(e) => setOrganization(e.currentTarget.value)}
        >
          {organizations.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name}
            </option>
          ))}
        </select>
        {fields.map(([field, label, type]) => (
          <div key={field}>
            <label for={`platform-${field}`}>{label}</label>
            <input
              id={`platform-${field}`}
              type={type}
              required={field !== 'name'}
              value={form[field]}
              onInput={set(field)}
            />
          </div>
        ))}
        <label for="platform-course-accounts">Course accounts on launch</label>
        <select
          id="platform-course-accounts"
          value={form.course_accounts_on_launch}
          onChange={set('course_accounts_on_launch')}
        >
          <option value="never">Never</option>
          <option value="always">Always</option>
          <option value="when_link_asks">When the link asks (custom parameter)</option>
        </select>
        <button type="submit" disabled={actions !== null && !can(actions, 'update')}>
          Register
        </button>
      </form>
    </Section>
  );
}

export function LtiPlatformPage({ id }: { id: string }) {
  const api = useApi();
  const platform = useLoad(() => api.get<Platform>(`/lti/platforms/${id}`), [id]);
  if (platform.error) return <ErrorMessage error={platform.error} />;
  if (!platform.data) return <Loading />;
  const p = platform.data;
  return (
    <div>
      <p class="breadcrumbs">
        <Link to="/lti-platforms">LTI platforms</Link> ›
      </p>
      <h1>{p.name || p.issuer}</h1>
      <dl class="facts">
        <dt>Issuer</dt>
        <dd>{p.issuer}</dd>
        <dt>Client id</dt>
        <dd>{p.client_id}</dd>
        <dt>Deployments</dt>
        <dd>{p.deployment_ids.join(', ')}</dd>
        <dt>Course accounts on launch</dt>
        <dd>{p.course_accounts_on_launch}</dd>
        <dt>Registered</dt>
        <dd>{formatDate(p.created)}</dd>
      </dl>
      <Section title="Tool values for the LMS" id="tool-values">
        <ToolValues tool={p.tool} />
      </Section>
      <Section title="Launches" id="launches">
        <PlatformLaunches platformId={id} />
      </Section>
    </div>
  );
}

function PlatformLaunches({ platformId }: { platformId: string }) {
  const api = useApi();
  const [page, setPage] = useState(1);
  const launches = useLoad(
    () =>
      api.get<Page<PlatformLaunch>>(`/lti/platforms/${platformId}/launches`, { page, page_size: LAUNCHES_PAGE_SIZE }),
    [platformId, page],
  );
  if (launches.error) return <ErrorMessage error={launches.error} />;
  if (!launches.data) return <Loading />;
  const { results, count } = launches.data;
  if (count === 0) return <p>No launch yet.</p>;
  return (
    <>
      <div class="table-wrap">
        <table data-testid="platform-launches">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">User</th>
              <th scope="col">Course project</th>
              <th scope="col">Deployment</th>
              <th scope="col">Roles</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {results.map((l) => (
              <tr key={l.id} data-launch-id={l.id}>
                <td>{formatDate(l.created_at)}</td>
                <td class="small mono">{l.user}</td>
                <td>{l.project ? <Link to={`/projects/${l.project}`}>Project</Link> : '—'}</td>
                <td>{l.deployment_id}</td>
                <td title={l.roles.join(' ')}>{l.roles.length ? l.roles.map(roleName).join(', ') : '—'}</td>
                <td>
                  <code>{l.message_type}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager page={page} pageSize={LAUNCHES_PAGE_SIZE} count={count} onPage={setPage} />
    </>
  );
}
