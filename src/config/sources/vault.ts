import { isLoopback, SettingsError, yamlValueToString } from '../setting-values';
import { fetchExplained, SettingsSource, SourceRequest } from './types';

/** The answer of a Vault API call, or an error with its status and Vault's own `errors`. */
async function vaultCall<T>(what: string, url: URL, init: RequestInit): Promise<T> {
  const res = await fetchExplained(url, { ...init, redirect: 'error' });
  const body = (await res.json().catch(() => ({}))) as { errors?: unknown[] };
  if (!res.ok) {
    const errors = Array.isArray(body.errors) ? body.errors.filter((e) => typeof e === 'string') : [];
    throw new Error(`${what}: HTTP ${res.status}${errors.length ? ` (${errors.join('; ')})` : ''}`);
  }
  return body as T;
}

/** A Vault token: VAULT_TOKEN, else an AppRole login with VAULT_ROLE_ID and VAULT_SECRET_ID. */
async function vaultToken(addr: string, { get, signal }: SourceRequest): Promise<string> {
  const token = get('VAULT_TOKEN');
  if (token) return token;
  const roleId = get('VAULT_ROLE_ID');
  const secretId = get('VAULT_SECRET_ID');
  if (!roleId || !secretId) {
    throw new SettingsError('vault:// needs VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID for an AppRole login');
  }
  const login = new URL(`v1/auth/${encodeURIComponent(get('VAULT_APPROLE_MOUNT'))}/login`, addr);
  const out = await vaultCall<{ auth?: { client_token?: string } }>('AppRole login', login, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role_id: roleId, secret_id: secretId }),
    signal,
  });
  if (!out.auth?.client_token) throw new Error('AppRole login: no client_token in the answer');
  return out.auth.client_token;
}

/**
 * `vault://MOUNT/PATH#FIELD`: the latest version of a HashiCorp Vault KV version 2 secret, read
 * from VAULT_ADDR with GET /v1/MOUNT/data/PATH. Without `#FIELD` every field of the secret is a
 * setting of that name; with `#FIELD`, only that field: the setting of the entry's `SETTING=`
 * prefix, or else the setting named like the field.
 */
export const readVaultSecret: SettingsSource = async (request) => {
  const url = new URL(request.ref);
  const mount = url.hostname;
  const path = url.pathname.replace(/^\/+/, '');
  const field = url.hash ? decodeURIComponent(url.hash.slice(1)) : undefined;
  if (!mount || !path) throw new Error('expected vault://MOUNT/PATH or vault://MOUNT/PATH#FIELD');
  if (request.setting && !field)
    throw new Error(`name the field that holds ${request.setting}: vault://MOUNT/PATH#FIELD`);

  const addr = request.get('VAULT_ADDR');
  if (!addr) throw new SettingsError(`vault:// needs VAULT_ADDR (the Vault server's URL)`);
  const base = new URL(addr.endsWith('/') ? addr : `${addr}/`);
  if (base.protocol === 'http:' && !isLoopback(base.hostname)) {
    throw new Error('VAULT_ADDR may use plain http:// only for loopback hosts; use https://');
  }
  const token = await vaultToken(base.href, request);
  const read = new URL(`v1/${encodeURIComponent(mount)}/data/${path}`, base);
  const out = await vaultCall<{ data?: { data?: Record<string, unknown> | null } }>('read', read, {
    headers: { 'x-vault-token': token },
    signal: request.signal,
  });
  // A version that was deleted (not destroyed) answers 200 with `data: null`.
  const fields = out.data?.data;
  if (!fields) throw new Error('the latest version of the secret is deleted');
  if (field === undefined) return JSON.stringify(fields);
  if (!Object.prototype.hasOwnProperty.call(fields, field)) throw new Error(`the secret has no field "${field}"`);
  return request.setting ? yamlValueToString(fields[field]) : JSON.stringify({ [field]: fields[field] });
};
