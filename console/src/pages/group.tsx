import { useState } from 'preact/hooks';
import type { Page } from '../api';
import { ErrorMessage, formatDate, fromLocalInput, Loading, Section } from '../components';
import { useActions, useApi, useLoad } from '../hooks';
import { can } from '../permissions';
import { Link } from '../router';
import type { Group } from './groups-section';

interface Member {
  group_id: string;
  principal_type: 'user' | 'service_account';
  principal_id: string;
  expires_at: string | null;
  active: boolean;
}

interface User {
  id: string;
  username: string;
  email: string | null;
  first_name: string;
  last_name: string;
}

/** A member's name: the user's username, or the service account's name. */
function PrincipalName({ member }: { member: Member }) {
  const api = useApi();
  const path =
    member.principal_type === 'user' ? `/users/${member.principal_id}` : `/service-accounts/${member.principal_id}`;
  const who = useLoad(() => api.get<{ username?: string; name?: string }>(path), [path]);
  const label = who.data?.username ?? who.data?.name ?? member.principal_id;
  return <span>{label}</span>;
}

export function GroupPage({ id }: { id: string }) {
  const api = useApi();
  const group = useLoad(() => api.get<Group>(`/groups/${id}`), [id]);
  const members = useLoad(() => api.get<Page<Member>>(`/groups/${id}/members`, { page_size: 200 }), [id]);
  const actions = useActions('Group', id);
  const mayManage = can(actions, 'manage_members') || can(actions, 'update');
  const [error, setError] = useState<unknown>(null);
  if (group.error) return <ErrorMessage error={group.error} />;
  if (!group.data) return <Loading />;
  const g = group.data;
  return (
    <div>
      <p class="breadcrumbs">
        <Link to={g.scope_type === 'project' ? `/projects/${g.scope_id}` : `/organizations/${g.scope_id}`}>
          Back to the {g.scope_type}
        </Link>
      </p>
      <h1>{g.name}</h1>
      <p>
        Role <span class="badge">{g.role}</span> on the {g.scope_type}.
      </p>
      <Section title="Members" id="members">
        <ErrorMessage error={members.error ?? error} />
        {members.data ? (
          members.data.results.length === 0 ? (
            <p>No member yet.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Member</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Expires</th>
                    <th scope="col">Active</th>
                    {mayManage ? <th scope="col">Actions</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {members.data.results.map((m) => (
                    <tr key={`${m.principal_type}-${m.principal_id}`}>
                      <td>
                        <PrincipalName member={m} />
                      </td>
                      <td>{m.principal_type === 'user' ? 'User' : 'Service account'}</td>
                      <td>{m.expires_at ? formatDate(m.expires_at) : 'Never'}</td>
                      <td>{m.active ? 'Yes' : 'Expired'}</td>
                      {mayManage ? (
                        <td>
                          <button
                            type="button"
                            class="button-danger"
                            onClick={async () => {
                              setError(null);
                              try {
                                await api.delete(`/groups/${id}/members/${m.principal_type}/${m.principal_id}`);
                                members.reload();
                              } catch (err) {
                                setError(err);
                              }
                            }}
                          >
                            Remove
                          </button>
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        ) : (
          <Loading />
        )}
        {mayManage ? <AddMember groupId={id} onAdded={members.reload} /> : null}
      </Section>
    </div>
  );
}

function AddMember({ groupId, onAdded }: { groupId: string; onAdded: () => void }) {
  const api = useApi();
  const [login, setLogin] = useState('');
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      class="form"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        try {
          const found = await api.get<Page<User>>('/users', { search: login.trim(), page_size: 20 });
          const wanted = login.trim().toLowerCase();
          const user =
            found.results.find((u) => u.username.toLowerCase() === wanted || u.email?.toLowerCase() === wanted) ??
            (found.results.length === 1 ? found.results[0] : undefined);
          if (!user) throw new Error(`No user “${login}” that you may add.`);
          await api.post(`/groups/${groupId}/members`, {
            principal_type: 'user',
            principal_id: user.id,
            expires_at: fromLocalInput(expires),
          });
          setLogin('');
          setExpires('');
          onAdded();
        } catch (err) {
          setError(err);
        }
      }}
    >
      <h3>Add a member</h3>
      <ErrorMessage error={error} />
      <label for="member-login">Username or e-mail</label>
      <input id="member-login" required value={login} onInput={(e) => setLogin(e.currentTarget.value)} />
      <label for="member-expires">Expires (empty: never)</label>
      <input
        id="member-expires"
        type="datetime-local"
        value={expires}
        onInput={(e) => setExpires(e.currentTarget.value)}
      />
      <button type="submit">Add member</button>
    </form>
  );
}
