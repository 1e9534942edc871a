import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, SettingsError } from '../../src/config/load-settings';
import { closedPort, LocalHttpServer, startLocalHttpServer } from '../utils/local-http';
import {
  newServiceAccountKey,
  startFakeAwsSecretsManager,
  startFakeGcs,
  startFakeSecretManager,
  startFakeVault,
} from '../utils/secret-store-fakes';

/** Variables the Google and AWS clients read from process.env themselves; set per test and put back. */
const CLIENT_ENV = [
  'STORAGE_EMULATOR_HOST',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'GOOGLE_CLOUD_PROJECT',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
];

/**
 * EXTRA_SETTINGS_TIMEOUT_MS for stores that never answer, long enough for a busy machine to build
 * the client and send the request, and how long start-up may then take at most: the clients' own
 * defaults would wait a minute (Google) or forever (AWS, fetch).
 */
const TIMEOUT_MS = '1000';
const GAVE_UP_WITHIN_MS = 5_000;

describe('loadSettings from secret stores', () => {
  let dir: string;
  let servers: LocalHttpServer[];
  let savedEnv: Record<string, string | undefined>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ca-secret-stores-'));
    servers = [];
    savedEnv = Object.fromEntries(CLIENT_ENV.map((k) => [k, process.env[k]]));
    for (const k of CLIENT_ENV) delete process.env[k];
  });

  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dir, { recursive: true, force: true });
  });

  /** Loads with only the given settings environment (never the machine's own, nor a .env file). */
  const load = (env: Record<string, string>) => loadSettings({ env, envFile: join(dir, 'absent.env') });

  const track = async (starting: Promise<LocalHttpServer>): Promise<LocalHttpServer> => {
    const server = await starting;
    servers.push(server);
    return server;
  };

  /** A server that accepts requests and never answers them. */
  const silent = () => track(startLocalHttpServer(() => undefined));

  /** The SettingsError message `loading` fails with. */
  const failure = async (loading: Promise<unknown>): Promise<string> => {
    const error = await loading.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SettingsError);
    return (error as SettingsError).message;
  };

  /** Fails and how long it took. */
  const timedFailure = async (loading: Promise<unknown>) => {
    const started = Date.now();
    const message = await failure(loading);
    return { message, elapsed: Date.now() - started };
  };

  describe('gs:// (Google Cloud Storage through STORAGE_EMULATOR_HOST)', () => {
    // Loaded up front, so that a timeout test measures the request rather than loading the client.
    beforeAll(() => import('@google-cloud/storage'));

    const useEmulator = (server: LocalHttpServer) => {
      process.env.STORAGE_EMULATOR_HOST = `${server.origin}/storage/v1`;
    };

    it('reads a YAML document from a bucket', async () => {
      const gcs = await track(
        startFakeGcs({
          objects: {
            'campus-settings/prod/campus access.yaml': 'LOG_LEVEL: warn\nCORS_ORIGINS: [https://lms.example.edu]\n',
          },
        }),
      );
      useEmulator(gcs);
      const s = await load({ EXTRA_SETTINGS_URLS: 'gs://campus-settings/prod/campus%20access.yaml' });
      expect(s.LOG_LEVEL).toBe('warn');
      expect(s.CORS_ORIGINS).toEqual(['https://lms.example.edu']);
      expect(gcs.requests).toHaveLength(1);
      const [request] = gcs.requests;
      expect(request.method).toBe('GET');
      expect(request.url).toMatch(
        /^\/storage\/v1\/b\/campus-settings\/o\/prod%2Fcampus%20access\.yaml\?(.*&)?alt=media/,
      );
    });

    it('sets one setting to the whole object with SETTING=gs://…', async () => {
      const secret = 'k3y: [not yaml, read as is] 0123456789abcdef';
      const gcs = await track(startFakeGcs({ objects: { 'campus-keys/key-encryption': `${secret}\n` } }));
      useEmulator(gcs);
      const s = await load({ EXTRA_SETTINGS_URLS: 'KEY_ENCRYPTION_SECRET=gs://campus-keys/key-encryption' });
      expect(s.KEY_ENCRYPTION_SECRET).toBe(secret);
      // Setting names are case-insensitive here as in documents.
      const lower = await load({ EXTRA_SETTINGS_URLS: 'key_encryption_secret=gs://campus-keys/key-encryption' });
      expect(lower.KEY_ENCRYPTION_SECRET).toBe(secret);
    });

    it('names the URL when the object does not exist', async () => {
      const gcs = await track(startFakeGcs({ objects: { 'campus-settings/other.yaml': 'LOG_LEVEL: warn\n' } }));
      useEmulator(gcs);
      const url = 'gs://campus-settings/missing.yaml';
      const message = await failure(load({ EXTRA_SETTINGS_URLS: url }));
      expect(message).toBe(
        `EXTRA_SETTINGS_URLS document ${url}: cannot be read (HTTP 404: No such object: campus-settings/missing.yaml); it would have set the settings it holds`,
      );
    });

    it('names the URL when the caller may not read the bucket', async () => {
      const gcs = await track(
        startFakeGcs({
          objects: { 'locked-bucket/campus.yaml': 'LOG_LEVEL: warn\n' },
          deniedBuckets: ['locked-bucket'],
        }),
      );
      useEmulator(gcs);
      const message = await failure(load({ EXTRA_SETTINGS_URLS: 'DATABASE_URL=gs://locked-bucket/campus.yaml' }));
      expect(message).toContain('EXTRA_SETTINGS_URLS entry DATABASE_URL=gs://locked-bucket/campus.yaml');
      expect(message).toMatch(
        /cannot be read \(HTTP 403: .*storage\.objects\.get.*\); it would have set DATABASE_URL$/,
      );
    });

    it('gives up after EXTRA_SETTINGS_TIMEOUT_MS when the store never answers', async () => {
      const server = await silent();
      useEmulator(server);
      const url = 'gs://campus-settings/slow.yaml';
      const { message, elapsed } = await timedFailure(
        load({ EXTRA_SETTINGS_URLS: url, EXTRA_SETTINGS_TIMEOUT_MS: TIMEOUT_MS }),
      );
      expect(message).toContain(url);
      expect(message).toMatch(/cannot be read \(timed out after 1000 ms\)/);
      expect(elapsed).toBeLessThan(GAVE_UP_WITHIN_MS);
      expect(server.requests).toHaveLength(1);
    });
  });

  describe('sm:// (Google Secret Manager through GOOGLE_SECRET_MANAGER_ENDPOINT)', () => {
    // Loaded up front, so that a timeout test measures the request rather than loading the client.
    beforeAll(() => import('@google-cloud/secret-manager'));

    const READER = 'settings-reader@campus.iam.gserviceaccount.com';

    /** Application default credentials: a service-account key file named by GOOGLE_APPLICATION_CREDENTIALS. */
    const useServiceAccount = async (email: string) => {
      const { key, publicKeyPem } = newServiceAccountKey(email);
      const path = join(dir, `${email}.json`);
      await writeFile(path, JSON.stringify(key));
      process.env.GOOGLE_APPLICATION_CREDENTIALS = path;
      return { key, publicKeyPem };
    };

    it('reads the latest version as a YAML document, or the version after #', async () => {
      const { publicKeyPem } = await useServiceAccount(READER);
      const sm = await track(
        startFakeSecretManager({
          accounts: { [READER]: publicKeyPem },
          secrets: {
            'campus/settings': {
              versions: ['LOG_LEVEL: debug\n', 'LOG_LEVEL: error\nPORT: 8088\n'],
              readers: [READER],
            },
          },
        }),
      );
      const latest = await load({
        EXTRA_SETTINGS_URLS: 'sm://campus/settings',
        GOOGLE_SECRET_MANAGER_ENDPOINT: sm.origin,
      });
      expect(latest.LOG_LEVEL).toBe('error');
      expect(latest.PORT).toBe(8088);
      const first = await load({
        EXTRA_SETTINGS_URLS: 'sm://campus/settings#1',
        GOOGLE_SECRET_MANAGER_ENDPOINT: sm.origin,
      });
      expect(first.LOG_LEVEL).toBe('debug');
      expect(sm.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
        'GET /v1/projects/campus/secrets/settings/versions/latest:access',
        'GET /v1/projects/campus/secrets/settings/versions/1:access',
      ]);
      // The fake answered only because the bearer token was a JWT signed with the key file's key.
      expect(sm.requests[0].headers.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    });

    it('sets one setting to the payload, read as is, with SETTING=sm://…', async () => {
      const { publicKeyPem } = await useServiceAccount(READER);
      // Not valid YAML: read as a document it would be refused.
      const secret = '&k3y: [unbalanced *alias 0123456789abcdef0123456789';
      const sm = await track(
        startFakeSecretManager({
          accounts: { [READER]: publicKeyPem },
          secrets: { 'campus/key-encryption': { versions: [secret], readers: [READER] } },
        }),
      );
      const s = await load({
        EXTRA_SETTINGS_URLS: 'KEY_ENCRYPTION_SECRET=sm://campus/key-encryption',
        GOOGLE_SECRET_MANAGER_ENDPOINT: sm.origin,
      });
      expect(s.KEY_ENCRYPTION_SECRET).toBe(secret);
    });

    it('names the secret, never its value, when the value is not valid for the setting', async () => {
      const { publicKeyPem } = await useServiceAccount(READER);
      const sm = await track(
        startFakeSecretManager({
          accounts: { [READER]: publicKeyPem },
          secrets: { 'campus/database-url': { versions: ['hunter2-not-a-url'], readers: [READER] } },
        }),
      );
      const message = await failure(
        load({
          EXTRA_SETTINGS_URLS: 'DATABASE_URL=sm://campus/database-url',
          GOOGLE_SECRET_MANAGER_ENDPOINT: sm.origin,
        }),
      );
      expect(message).toBe(
        'Invalid setting DATABASE_URL from EXTRA_SETTINGS_URLS entry DATABASE_URL=sm://campus/database-url: expected a URL',
      );
    });

    it('names the URL when the secret or its version does not exist', async () => {
      const { publicKeyPem } = await useServiceAccount(READER);
      const sm = await track(
        startFakeSecretManager({
          accounts: { [READER]: publicKeyPem },
          secrets: { 'campus/settings': { versions: ['LOG_LEVEL: debug\n'], readers: [READER] } },
        }),
      );
      for (const url of ['sm://campus/no-such-secret', 'sm://campus/settings#7']) {
        const message = await failure(load({ EXTRA_SETTINGS_URLS: url, GOOGLE_SECRET_MANAGER_ENDPOINT: sm.origin }));
        expect(message).toContain(`EXTRA_SETTINGS_URLS document ${url}: cannot be read (`);
        expect(message).toMatch(
          /cannot be read \(HTTP 404 NOT_FOUND: Secret Version \[projects\/campus\/.*\] not found\.\)/,
        );
      }
    });

    it('names the URL, not the credentials, when the service account may not access the secret', async () => {
      const other = 'someone-else@campus.iam.gserviceaccount.com';
      const { key, publicKeyPem } = await useServiceAccount(other);
      const sm = await track(
        startFakeSecretManager({
          accounts: { [other]: publicKeyPem },
          secrets: { 'campus/database-url': { versions: ['postgres://db.example.edu/campus'], readers: [READER] } },
        }),
      );
      const message = await failure(
        load({
          EXTRA_SETTINGS_URLS: 'DATABASE_URL=sm://campus/database-url',
          GOOGLE_SECRET_MANAGER_ENDPOINT: sm.origin,
        }),
      );
      expect(message).toContain('EXTRA_SETTINGS_URLS entry DATABASE_URL=sm://campus/database-url: cannot be read (');
      expect(message).toMatch(/\(HTTP 403 PERMISSION_DENIED: Permission 'secretmanager\.versions\.access' denied/);
      expect(message).toMatch(/it would have set DATABASE_URL$/);
      expect(message).not.toContain(key.private_key_id);
      expect(message).not.toContain('postgres://db.example.edu');
    });

    it('gives up after EXTRA_SETTINGS_TIMEOUT_MS when the store never answers', async () => {
      await useServiceAccount(READER);
      const server = await silent();
      const url = 'sm://campus/slow';
      const { message, elapsed } = await timedFailure(
        load({
          EXTRA_SETTINGS_URLS: url,
          GOOGLE_SECRET_MANAGER_ENDPOINT: server.origin,
          EXTRA_SETTINGS_TIMEOUT_MS: TIMEOUT_MS,
        }),
      );
      expect(message).toContain(url);
      expect(message).toMatch(/cannot be read \(timed out after 1000 ms\)/);
      expect(elapsed).toBeLessThan(GAVE_UP_WITHIN_MS);
      expect(server.requests).toHaveLength(1);
    });

    it('refuses a plain http:// endpoint that is not on this machine', async () => {
      await useServiceAccount(READER);
      const message = await failure(
        load({
          EXTRA_SETTINGS_URLS: 'sm://campus/settings',
          GOOGLE_SECRET_MANAGER_ENDPOINT: 'http://secrets.example.edu',
        }),
      );
      expect(message).toMatch(/GOOGLE_SECRET_MANAGER_ENDPOINT may use plain http:\/\/ only for loopback hosts/);
    });
  });

  describe('awssm:// (AWS Secrets Manager through AWS_SECRETS_MANAGER_ENDPOINT)', () => {
    // Loaded up front, so that a timeout test measures the request rather than loading the client.
    beforeAll(() => import('@aws-sdk/client-secrets-manager'));

    const READER_KEY = 'AKIDSECRETSREADER';
    const SECRET_KEY = 'aws-secret-key-for-the-settings-test';

    const useAwsCredentials = (accessKeyId: string) => {
      process.env.AWS_ACCESS_KEY_ID = accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = SECRET_KEY;
      process.env.AWS_EC2_METADATA_DISABLED = 'true';
    };

    it('reads a key/value secret (JSON, hence YAML) of the AWSCURRENT stage, or the stage after #', async () => {
      useAwsCredentials(READER_KEY);
      const aws = await track(
        startFakeAwsSecretsManager({
          readers: [READER_KEY],
          secrets: {
            'campus/prod/settings': {
              AWSCURRENT: '{"LOG_LEVEL":"warn","JOB_CONCURRENCY":"6"}',
              AWSPREVIOUS: '{"LOG_LEVEL":"debug"}',
            },
          },
        }),
      );
      const env = { AWS_SECRETS_MANAGER_ENDPOINT: aws.origin, AWS_SECRETS_MANAGER_REGION: 'eu-west-2' };
      const current = await load({ ...env, EXTRA_SETTINGS_URLS: 'awssm://campus/prod/settings' });
      expect(current.LOG_LEVEL).toBe('warn');
      expect(current.JOB_CONCURRENCY).toBe(6);
      const previous = await load({ ...env, EXTRA_SETTINGS_URLS: 'awssm://campus/prod/settings#AWSPREVIOUS' });
      expect(previous.LOG_LEVEL).toBe('debug');
      expect(aws.requests.map((r) => r.headers['x-amz-target'])).toEqual([
        'secretsmanager.GetSecretValue',
        'secretsmanager.GetSecretValue',
      ]);
      expect(String(aws.requests[0].headers.authorization)).toMatch(
        new RegExp(`^AWS4-HMAC-SHA256 Credential=${READER_KEY}/\\d{8}/eu-west-2/secretsmanager/aws4_request`),
      );
    });

    it("sets one setting with SETTING=awssm://ARN, signing for the ARN's region", async () => {
      useAwsCredentials(READER_KEY);
      const aws = await track(
        startFakeAwsSecretsManager({
          readers: [READER_KEY],
          secrets: { 'campus/admin': { AWSCURRENT: '{"x": "kept as is"}' } },
        }),
      );
      const arn = 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:campus/admin-Xy12Zw';
      const s = await load({
        EXTRA_SETTINGS_URLS: `BOOTSTRAP_ADMIN_PASSWORD=awssm://${arn}`,
        AWS_SECRETS_MANAGER_ENDPOINT: aws.origin,
      });
      expect(s.BOOTSTRAP_ADMIN_PASSWORD).toBe('{"x": "kept as is"}');
      expect(String(aws.requests[0].headers.authorization)).toMatch(/\/ap-southeast-2\/secretsmanager\/aws4_request/);
    });

    it('names the URL when the secret or its stage does not exist', async () => {
      useAwsCredentials(READER_KEY);
      const aws = await track(
        startFakeAwsSecretsManager({ readers: [READER_KEY], secrets: { 'campus/settings': { AWSCURRENT: '{}' } } }),
      );
      const env = { AWS_SECRETS_MANAGER_ENDPOINT: aws.origin, AWS_SECRETS_MANAGER_REGION: 'eu-west-2' };
      const missing = await failure(load({ ...env, EXTRA_SETTINGS_URLS: 'awssm://campus/nothing-here' }));
      expect(missing).toBe(
        "EXTRA_SETTINGS_URLS document awssm://campus/nothing-here: cannot be read (ResourceNotFoundException: Secrets Manager can't find the specified secret.); it would have set the settings it holds",
      );
      const stage = await failure(load({ ...env, EXTRA_SETTINGS_URLS: 'awssm://campus/settings#AWSPENDING' }));
      expect(stage).toMatch(
        /awssm:\/\/campus\/settings#AWSPENDING: cannot be read \(ResourceNotFoundException: .*AWSPENDING\)/,
      );
    });

    it('names the URL, not the credentials, when the caller may not read the secret', async () => {
      useAwsCredentials('AKIDSOMEONEELSE');
      const aws = await track(
        startFakeAwsSecretsManager({ readers: [READER_KEY], secrets: { 'campus/db': { AWSCURRENT: 'postgres://x' } } }),
      );
      const message = await failure(
        load({
          EXTRA_SETTINGS_URLS: 'DATABASE_URL=awssm://campus/db',
          AWS_SECRETS_MANAGER_ENDPOINT: aws.origin,
          AWS_SECRETS_MANAGER_REGION: 'eu-west-2',
        }),
      );
      expect(message).toMatch(
        /^EXTRA_SETTINGS_URLS entry DATABASE_URL=awssm:\/\/campus\/db: cannot be read \(AccessDeniedException: .*\); it would have set DATABASE_URL$/,
      );
      expect(message).not.toContain(SECRET_KEY);
    });

    it('gives up after EXTRA_SETTINGS_TIMEOUT_MS when the store never answers', async () => {
      useAwsCredentials(READER_KEY);
      const server = await silent();
      const url = 'awssm://campus/slow';
      const { message, elapsed } = await timedFailure(
        load({
          EXTRA_SETTINGS_URLS: url,
          AWS_SECRETS_MANAGER_ENDPOINT: server.origin,
          AWS_SECRETS_MANAGER_REGION: 'eu-west-2',
          EXTRA_SETTINGS_TIMEOUT_MS: TIMEOUT_MS,
        }),
      );
      expect(message).toContain(url);
      expect(message).toMatch(/cannot be read \(timed out after 1000 ms\)/);
      expect(elapsed).toBeLessThan(GAVE_UP_WITHIN_MS);
      expect(server.requests).toHaveLength(1);
    });
  });

  describe('vault:// (HashiCorp Vault KV v2 at VAULT_ADDR)', () => {
    const TOKEN = 'hvs.settings-reader-token';

    it('reads every field of a secret as a setting', async () => {
      const vault = await track(
        startFakeVault({
          secrets: {
            'kv/campus-access/settings': {
              LOG_LEVEL: 'warn',
              job_concurrency: 5,
              CORS_ORIGINS: ['https://a.example.edu'],
            },
          },
          tokens: { [TOKEN]: ['kv/campus-access/settings'] },
        }),
      );
      const s = await load({
        EXTRA_SETTINGS_URLS: 'vault://kv/campus-access/settings',
        VAULT_ADDR: vault.origin,
        VAULT_TOKEN: TOKEN,
      });
      expect(s.LOG_LEVEL).toBe('warn');
      expect(s.JOB_CONCURRENCY).toBe(5);
      expect(s.CORS_ORIGINS).toEqual(['https://a.example.edu']);
      expect(vault.requests).toEqual([
        expect.objectContaining({ method: 'GET', url: '/v1/kv/data/campus-access/settings' }),
      ]);
      expect(vault.requests[0].headers['x-vault-token']).toBe(TOKEN);
    });

    it('reads one field: as the setting it is named after, or as the SETTING= of the entry', async () => {
      const vault = await track(
        startFakeVault({
          secrets: {
            'kv/campus-access/db': {
              DATABASE_URL: 'postgres://u:a@db1.example.edu/c',
              replica: 'postgres://u:b@db2.example.edu/c',
              LOG_LEVEL: 'trace',
            },
          },
          tokens: { [TOKEN]: ['kv/campus-access/db'] },
        }),
      );
      const env = { VAULT_ADDR: vault.origin, VAULT_TOKEN: TOKEN };
      const named = await load({ ...env, EXTRA_SETTINGS_URLS: 'vault://kv/campus-access/db#DATABASE_URL' });
      expect(named.DATABASE_URL).toBe('postgres://u:a@db1.example.edu/c');
      expect(named.LOG_LEVEL).toBe('info'); // the other fields are left alone
      const renamed = await load({ ...env, EXTRA_SETTINGS_URLS: 'DATABASE_URL=vault://kv/campus-access/db#replica' });
      expect(renamed.DATABASE_URL).toBe('postgres://u:b@db2.example.edu/c');
      const noField = await failure(load({ ...env, EXTRA_SETTINGS_URLS: 'DATABASE_URL=vault://kv/campus-access/db' }));
      expect(noField).toMatch(/name the field that holds DATABASE_URL/);
      const missingField = await failure(
        load({ ...env, EXTRA_SETTINGS_URLS: 'vault://kv/campus-access/db#REDIS_URL' }),
      );
      expect(missingField).toMatch(/cannot be read \(the secret has no field "REDIS_URL"\)/);
    });

    it('logs in with AppRole when VAULT_TOKEN is unset', async () => {
      const vault = await track(
        startFakeVault({
          secrets: { 'secret/campus': { LOG_LEVEL: 'error' } },
          tokens: { 'hvs.from-approle': ['secret/campus'] },
          appRoles: { 'role-1234': { secretId: 'secret-id-5678', token: 'hvs.from-approle' } },
        }),
      );
      const env = {
        EXTRA_SETTINGS_URLS: 'vault://secret/campus',
        VAULT_ADDR: vault.origin,
        VAULT_ROLE_ID: 'role-1234',
      };
      expect((await load({ ...env, VAULT_SECRET_ID: 'secret-id-5678' })).LOG_LEVEL).toBe('error');
      expect(vault.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        'POST /v1/auth/approle/login',
        'GET /v1/secret/data/campus',
      ]);
      expect(vault.requests[1].headers['x-vault-token']).toBe('hvs.from-approle');

      const refused = await failure(load({ ...env, VAULT_SECRET_ID: 'wrong-secret-id' }));
      expect(refused).toMatch(/cannot be read \(AppRole login: HTTP 400 \(invalid role or secret ID\)\)/);
      expect(refused).not.toContain('wrong-secret-id');
      expect(await failure(load(env))).toMatch(/vault:\/\/ needs VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID/);
    });

    it('names the URL when the secret does not exist or its latest version is deleted', async () => {
      const vault = await track(
        startFakeVault({
          secrets: { 'kv/campus/deleted': null },
          tokens: { [TOKEN]: ['kv/campus/missing', 'kv/campus/deleted'] },
        }),
      );
      const env = { VAULT_ADDR: vault.origin, VAULT_TOKEN: TOKEN };
      expect(await failure(load({ ...env, EXTRA_SETTINGS_URLS: 'vault://kv/campus/missing' }))).toBe(
        'EXTRA_SETTINGS_URLS document vault://kv/campus/missing: cannot be read (read: HTTP 404); it would have set the settings it holds',
      );
      expect(await failure(load({ ...env, EXTRA_SETTINGS_URLS: 'vault://kv/campus/deleted' }))).toMatch(
        /vault:\/\/kv\/campus\/deleted: cannot be read \(the latest version of the secret is deleted\)/,
      );
    });

    it('names the URL, not the token, when the token may not read the secret', async () => {
      const vault = await track(
        startFakeVault({ secrets: { 'kv/campus/db': { DATABASE_URL: 'postgres://x' } }, tokens: { [TOKEN]: [] } }),
      );
      const message = await failure(
        load({
          EXTRA_SETTINGS_URLS: 'vault://kv/campus/db#DATABASE_URL',
          VAULT_ADDR: vault.origin,
          VAULT_TOKEN: TOKEN,
        }),
      );
      expect(message).toBe(
        'EXTRA_SETTINGS_URLS document vault://kv/campus/db#DATABASE_URL: cannot be read (read: HTTP 403 (permission denied)); it would have set the settings it holds',
      );
      expect(message).not.toContain(TOKEN);
    });

    it('gives up after EXTRA_SETTINGS_TIMEOUT_MS when Vault never answers', async () => {
      const server = await silent();
      const url = 'vault://kv/campus/slow';
      const { message, elapsed } = await timedFailure(
        load({
          EXTRA_SETTINGS_URLS: url,
          VAULT_ADDR: server.origin,
          VAULT_TOKEN: TOKEN,
          EXTRA_SETTINGS_TIMEOUT_MS: TIMEOUT_MS,
        }),
      );
      expect(message).toContain(url);
      expect(message).toMatch(/cannot be read \(timed out after 1000 ms\)/);
      expect(elapsed).toBeLessThan(GAVE_UP_WITHIN_MS);
      expect(server.requests).toHaveLength(1);
    });

    it('needs VAULT_ADDR, and plain http:// only on loopback', async () => {
      expect(await failure(load({ EXTRA_SETTINGS_URLS: 'vault://kv/campus', VAULT_TOKEN: TOKEN }))).toBe(
        "EXTRA_SETTINGS_URLS document vault://kv/campus: vault:// needs VAULT_ADDR (the Vault server's URL)",
      );
      expect(await failure(load({ EXTRA_SETTINGS_URLS: 'vault://kv/campus', VAULT_ADDR: 'vault.example.edu' }))).toBe(
        'EXTRA_SETTINGS_URLS document vault://kv/campus: Invalid setting VAULT_ADDR from environment: expected a URL (got "vault.example.edu")',
      );
      const remote = await failure(
        load({
          EXTRA_SETTINGS_URLS: 'vault://kv/campus',
          VAULT_TOKEN: TOKEN,
          VAULT_ADDR: 'http://vault.example.edu:8200',
        }),
      );
      expect(remote).toMatch(/VAULT_ADDR may use plain http:\/\/ only for loopback hosts/);
    });
  });

  /** Points each store's client at `origin` (through process.env or settings) and returns the settings. */
  const reach: Record<string, (origin: string) => Promise<Record<string, string>>> = {
    gs: async (origin) => {
      process.env.STORAGE_EMULATOR_HOST = `${origin}/storage/v1`;
      return {};
    },
    sm: async (origin) => {
      const keyFile = join(dir, 'key.json');
      await writeFile(keyFile, JSON.stringify(newServiceAccountKey('reader@campus.iam.gserviceaccount.com').key));
      process.env.GOOGLE_APPLICATION_CREDENTIALS = keyFile;
      return { GOOGLE_SECRET_MANAGER_ENDPOINT: origin };
    },
    awssm: async (origin) => {
      process.env.AWS_ACCESS_KEY_ID = 'AKIDUNREACHABLE';
      process.env.AWS_SECRET_ACCESS_KEY = 'unreachable-secret-key';
      return { AWS_SECRETS_MANAGER_ENDPOINT: origin, AWS_SECRETS_MANAGER_REGION: 'eu-west-2' };
    },
    vault: async (origin) => ({ VAULT_ADDR: origin, VAULT_TOKEN: 'hvs.unreachable' }),
  };

  it.each(['gs://campus-settings/campus.yaml', 'sm://campus/settings', 'awssm://campus/settings', 'vault://kv/campus'])(
    'names %s and the refused connection when the store is not running',
    async (url) => {
      const settings = await reach[url.split(':')[0]](`http://127.0.0.1:${await closedPort()}`);
      const message = await failure(load({ ...settings, EXTRA_SETTINGS_URLS: url, EXTRA_SETTINGS_TIMEOUT_MS: '3000' }));
      expect(message).toMatch(/cannot be read \(.*ECONNREFUSED.*\); it would have set the settings it holds$/);
      expect(message.startsWith(`EXTRA_SETTINGS_URLS document ${url}: `)).toBe(true);
    },
  );

  it('reaches a store with settings from an earlier entry, and applies entries in order', async () => {
    const TOKEN = 'hvs.from-an-earlier-document';
    const vault = await track(
      startFakeVault({ secrets: { 'kv/campus': { LOG_LEVEL: 'warn' } }, tokens: { [TOKEN]: ['kv/campus'] } }),
    );
    const first = join(dir, 'vault.yaml');
    await writeFile(
      first,
      `VAULT_ADDR: ${vault.origin}\nVAULT_TOKEN: ${TOKEN}\nLOG_LEVEL: debug\nDATA_DIR: /srv/campus\n`,
    );
    const s = await load({ EXTRA_SETTINGS_URLS: `${first},vault://kv/campus` });
    expect(s.LOG_LEVEL).toBe('warn');
    expect(s.DATA_DIR).toBe('/srv/campus');
    expect(vault.requests.map((r) => r.headers['x-vault-token'])).toEqual([TOKEN]);
  });
});
