import { useState } from 'preact/hooks';
import type { Page } from '../api';
import { ErrorMessage, Loading, Section } from '../components';
import { useApi, useLoad, useSubmit } from '../hooks';
import { Link, navigate } from '../router';

export interface Group {
  id: string;
  organization_id: string;
  name: string;
  scope_type: string;
  scope_id: string;
  role: string;
  description: string;
}

interface Role {
  name: string;
  description: string;
  scope_type: string;
}

/** The groups of one scope (organization or project), and a form to add one. */
export function GroupsSection(props: {
  organizationId: string;
  scopeType: 'organization' | 'project';
  scopeId: string;
  mayCreate: boolean;
}) {
  const api = useApi();
  const groups = useLoad(
    () =>
      api.get<Page<Group>>('/groups', {
        organization: props.organizationId,
        scope_type: props.scopeType,
        scope_id: props.scopeId,
        page_size: 100,
      }),
    [props.scopeId],
  );
  return (
    <Section title="Groups and roles" id={`groups-${props.scopeType}`}>
      <ErrorMessage error={groups.error} />
      {groups.data ? (
        groups.data.results.length === 0 ? (
          <p>No group gives a role here yet.</p>
        ) : (
          <ul class="link-list">
            {groups.data.results.map((g) => (
              <li key={g.id}>
                <Link to={`/groups/${g.id}`}>{g.name}</Link> <span class="badge">{g.role}</span>
              </li>
            ))}
          </ul>
        )
      ) : groups.error ? null : (
        <Loading />
      )}
      {props.mayCreate ? <CreateGroup {...props} /> : null}
    </Section>
  );
}

function CreateGroup({ scopeType, scopeId }: { scopeType: string; scopeId: string }) {
  const api = useApi();
  const roles = useLoad(() => api.get<Role[]>('/roles'), []);
  const [name, setName] = useState('');
  const [role, setRole] = useState('');
  const submit = useSubmit(async () => {
    const group = await api.post<Group>('/groups', {
      name,
      scope_type: scopeType,
      scope_id: scopeId,
      role: role || choices[0]?.name,
    });
    navigate(`/groups/${group.id}`);
  });
  const choices = (roles.data ?? []).filter((r) => r.scope_type === scopeType);
  return (
    <form class="form" onSubmit={submit.onSubmit}>
      <h3>New group</h3>
      <ErrorMessage error={submit.error} />
      <label for={`group-name-${scopeId}`}>Name</label>
      <input id={`group-name-${scopeId}`} required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <label for={`group-role-${scopeId}`}>Role</label>
      <select id={`group-role-${scopeId}`} value={role} onChange={(e) => setRole(e.currentTarget.value)}>
        {choices.map((r) => (
          <option key={r.name} value={r.name}>
            {r.name} — {r.description}
          </option>
        ))}
      </select>
      <button type="submit">Create group</button>
    </form>
  );
}
