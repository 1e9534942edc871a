import { useState } from 'preact/hooks';
import type { Page } from '../api';
import { CopyValue, ErrorMessage, formatDate, Loading, Section } from '../components';
import { useActions, useApi, useLoad } from '../hooks';
import { can } from '../permissions';
import { Link } from '../router';

interface ServiceAccount {
  id: string;
  organization: string;
  client_id: string;
  name: string;
  description: string;
  allowed_scopes: string[];
  is_active: boolean;
  secrets: { id: string; prefix: string; created: string; expires_at: string | null }[];
  created: string;
  client_secret?: string;
}

/** A secret the API shows once: with its copy button, until the user dismisses it. */
function OnceSecret({ account, onDone }: { account: ServiceAccount; onDone: () => void }) {
  return (
    <div class="alert alert-info" role="status" data-testid="secret-once">
      <p>
        <strong>Store this secret now:</strong> it is shown only once.
      </p>
      <CopyValue label="Client id" value={account.client_id} />
      {account.client_secret ? <CopyValue label="Client secret" value={account.client_secret} secret /> : null}
      <button type="button" class="button-secondary" onClick={onDone}>
        I stored it
      </button>
    </div>
  );
}

function ServiceAccountRow({ account, onChanged }: { account: ServiceAccount; onChanged: () => void }) {
  const api = useApi();
  const actions = useActions('ServiceAccount', account.id);
  const [shown, setShown] = useState<ServiceAccount | null>(null);
  const [error, setError] = useState<unknown>(null);
  return (
    <li class="card">
      <h3>
        {account.name} {account.is_active ? null : <span class="badge badge-closed">deactivated</span>}
      </h3>
      <p class="muted">
        Client id <code>{account.client_id}</code> · scopes {account.allowed_scopes.join(' ') || '—'} · created{' '}
        {formatDate(account.created)}
      </p>
      {account.secrets.length ? (
        <p class="small">
          Live secrets:{' '}
          {account.secrets.map((s) => (
            <span key={s.id}>
              <code>{s.prefix}…</code>
              {s.expires_at ? ` (until ${formatDate(s.expires_at)})` : ''}{' '}
            </span>
          ))}
        </p>
      ) : null}
      <ErrorMessage error={error} />
      {shown ? <OnceSecret account={shown} onDone={() => setShown(null)} /> : null}
      {account.is_active ? (
        <div class="actions">
          {can(actions, 'rotate_secret') ? (
            <button
              type="button"
              onClick={async () => {
                setError(null);
                try {
                  setShown(await api.post<ServiceAccount>(`/service-accounts/${account.id}/rotate-secret`));
                } catch (e) {
                  setError(e);
                }
              }}
            >
              Rotate secret
            </button>
          ) : null}
          {can(actions, 'update') ? (
            <button
              type="button"
              class="button-danger"
              onClick={async () => {
                if (!window.confirm(`Deactivate ${account.name}? Its tokens stop working.`)) return;
                setError(null);
                try {
                  await api.post(`/service-accounts/${account.id}/deactivate`);
                  onChanged();
                } catch (e) {
                  setError(e);
                }
              }}
            >
              Deactivate
            </button>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}

export function ServiceAccountsPage({ organizationId }: { organizationId: string }) {
  const api = useApi();
  const orgActions = useActions('Organization', organizationId);
  const list = useLoad(
    () => api.get<Page<ServiceAccount>>('/service-accounts', { organization: organizationId, page_size: 100 }),
    [organizationId],
  );
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [scopes, setScopes] = useState('');
  const [created, setCreated] = useState<ServiceAccount | null>(null);
  const [error, setError] = useState<unknown>(null);
  return (
    <div>
      <p class="breadcrumbs">
        <Link to={`/organizations/${organizationId}`}>Organization</Link> ›
      </p>
      <h1>Service accounts</h1>
      <ErrorMessage error={list.error} />
      {list.data ? (
        list.data.results.length === 0 ? (
          <p>No service account yet.</p>
        ) : (
          <ul class="cards">
            {list.data.results.map((a) => (
              <ServiceAccountRow key={a.id} account={a} onChanged={list.reload} />
            ))}
          </ul>
        )
      ) : list.error ? null : (
        <Loading />
      )}
      {can(orgActions, 'update') ? (
        <Section title="New service account" id="new-service-account">
          {created ? (
            <OnceSecret
              account={created}
              onDone={() => {
                setCreated(null);
              }}
            />
          ) : null}
          <form
            class="form"
            onSubmit={async (e) => {
              e.preventDefault();
              setError(null);
              try {
                const account = await api.post<ServiceAccount>('/service-accounts', {
                  organization: organizationId,
                  name,
                  description,
                  allowed_scopes: scopes.split(/[\s,]+/).filter(Boolean),
                });
                setCreated(account);
                setName('');
                setDescription('');
                setScopes('');
                list.reload();
              } catch (err) {
                setError(err);
              }
            }}
          >
            <ErrorMessage error={error} />
            <label for="sa-name">Name</label>
            <input id="sa-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
            <label for="sa-description">Description</label>
            <input id="sa-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
            <label for="sa-scopes">Allowed scopes (space separated)</label>
            <input id="sa-scopes" value={scopes} onInput={(e) => setScopes(e.currentTarget.value)} />
            <button type="submit">Create service account</button>
          </form>
        </Section>
      ) : null}
    </div>
  );
}
