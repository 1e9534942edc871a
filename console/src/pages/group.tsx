import { useEffect, useRef, useState } from 'preact/hooks';
import type { Page } from '../api';
import { ErrorMessage, formatDate, fromLocalInput, Loading, Section, toLocalInput } from '../components';
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

/** A member's name: the user's username, or the service account's name (its id until read, or when hidden). */
function usePrincipalLabel(member: Member): string {
  const api = useApi();
  const path =
    member.principal_type === 'user' ? `/users/${member.principal_id}` : `/service-accounts/${member.principal_id}`;
  const who = useLoad(() => api.get<{ username?: string; name?: string }>(path), [path]);
  return who.data?.username ?? who.data?.name ?? member.principal_id;
}

export function GroupPage({ id }: { id: string }) {
  const api = useApi();
  const group = useLoad(() => api.get<Group>(`/groups/${id}`), [id]);
  const members = useLoad(() => api.get<Page<Member>>(`/groups/${id}/members`, { page_size: 200 }), [id]);
  const actions = useActions('Group', id);
  // What the members routes (POST, PATCH, DELETE …/members) require.
  const mayManage = can(actions, 'manage_members');
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
              <table data-testid="group-members">
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
                    <MemberRow
                      key={`${m.principal_type}-${m.principal_id}`}
                      groupId={id}
                      member={m}
                      mayManage={mayManage}
                      onChanged={() => {
                        setError(null);
                        members.reload();
                      }}
                      onError={setError}
                    />
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

/** One member: its expiry, changed in place (PATCH …/members/{type}/{id}), and its removal. */
function MemberRow(props: {
  groupId: string;
  member: Member;
  mayManage: boolean;
  onChanged: () => void;
  onError: (error: unknown) => void;
}) {
  const { groupId, member: m, mayManage } = props;
  const api = useApi();
  const label = usePrincipalLabel(m);
  const [editing, setEditing] = useState(false);
  const [expires, setExpires] = useState('');
  const [saving, setSaving] = useState(false);
  const memberPath = `/groups/${groupId}/members/${m.principal_type}/${m.principal_id}`;
  const inputId = `expiry-${m.principal_type}-${m.principal_id}`;
  const editButton = useRef<HTMLButtonElement>(null);
  const dateInput = useRef<HTMLInputElement>(null);
  const wasEditing = useRef(false);
  useEffect(() => {
    // The keyboard follows: into the date when the form opens, back to its button when it closes.
    if (editing) dateInput.current?.focus();
    else if (wasEditing.current) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);
  return (
    <tr data-member-id={m.principal_id}>
      <td>
        <span>{label}</span>
      </td>
      <td>{m.principal_type === 'user' ? 'User' : 'Service account'}</td>
      <td data-testid="member-expires" data-expires={m.expires_at ?? ''}>
        {editing ? (
          <form
            class="inline-form"
            aria-label={`Expiry of ${label}`}
            onSubmit={async (e) => {
              e.preventDefault();
              setSaving(true);
              props.onError(null);
              try {
                await api.patch(memberPath, { expires_at: fromLocalInput(expires) });
                setEditing(false);
                props.onChanged();
              } catch (err) {
                props.onError(err);
              } finally {
                setSaving(false);
              }
            }}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setEditing(false);
            }}
          >
            <label for={inputId}>New expiry of {label} (empty: never)</label>
            <input
              id={inputId}
              type="datetime-local"
              value={expires}
              ref={dateInput}
              onInput={(e) => setExpires(e.currentTarget.value)}
            />
            <button type="submit" disabled={saving}>
              Save expiry
            </button>
            <button type="button" class="button-secondary" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </form>
        ) : m.expires_at ? (
          formatDate(m.expires_at)
        ) : (
          'Never'
        )}
      </td>
      <td>{m.active ? 'Yes' : 'Expired'}</td>
      {mayManage ? (
        <td>
          <div class="actions">
            {editing ? null : (
              <button
                type="button"
                class="button-secondary"
                ref={editButton}
                aria-label={`Change expiry of ${label}`}
                onClick={() => {
                  setExpires(toLocalInput(m.expires_at));
                  setEditing(true);
                }}
              >
                Change expiry
              </button>
            )}
            <button
              type="button"
              class="button-danger"
              aria-label={`Remove ${label}`}
              onClick={async () => {
                props.onError(null);
                try {
                  await api.delete(memberPath);
                  props.onChanged();
                } catch (err) {
                  props.onError(err);
                }
              }}
            >
              Remove
            </button>
          </div>
        </td>
      ) : null}
    </tr>
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
