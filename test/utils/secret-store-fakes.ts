/**
 * Small fakes of the secret stores EXTRA_SETTINGS_URLS reads, speaking each store's real HTTP wire
 * protocol on loopback so the official clients run unmodified against them:
 *
 * - the Google Cloud Storage JSON API (object media download), reached through STORAGE_EMULATOR_HOST;
 * - the Google Secret Manager REST API (`versions/*:access`), which checks the self-signed JWT that
 *   application default credentials of a service-account key send;
 * - the AWS Secrets Manager JSON 1.1 API (`GetSecretValue`), which checks the SigV4 access key;
 * - the HashiCorp Vault KV v2 read and AppRole login APIs.
 *
 * Each fake holds only the data the test gives it, and answers what the real service answers for a
 * missing object and a denied caller.
 */
import { createHash, createVerify, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalHttpServer, startLocalHttpServer } from './local-http';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, type = 'application/json; charset=UTF-8'): void {
  res.writeHead(status, { 'Content-Type': type });
  res.end(JSON.stringify(body));
}

// ---------------------------------------------------------------------------------------------
// Google Cloud Storage

/** CRC32C (Castagnoli), the checksum Cloud Storage sends in X-Goog-Hash and its client checks. */
function crc32c(data: Buffer): Buffer {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out;
}

export interface FakeGcsOptions {
  /** Objects by `bucket/object name`. */
  objects: Record<string, string>;
  /** Buckets whose objects the caller may not read (403, as for a missing IAM grant). */
  deniedBuckets?: string[];
}

/** The JSON API's `GET /storage/v1/b/BUCKET/o/OBJECT?alt=media`; STORAGE_EMULATOR_HOST is `${origin}/storage/v1`. */
export function startFakeGcs({ objects, deniedBuckets = [] }: FakeGcsOptions): Promise<LocalHttpServer> {
  return startLocalHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !match || url.searchParams.get('alt') !== 'media') {
      sendJson(res, 400, { error: { code: 400, message: 'Unsupported request to the fake.' } });
      return;
    }
    const bucket = decodeURIComponent(match[1]);
    const name = decodeURIComponent(match[2]);
    if (deniedBuckets.includes(bucket)) {
      sendJson(res, 403, {
        error: {
          code: 403,
          message: `settings-reader@campus.iam.gserviceaccount.com does not have storage.objects.get access to the Google Cloud Storage object. Permission 'storage.objects.get' denied on resource (or it may not exist).`,
          errors: [{ domain: 'global', reason: 'forbidden' }],
        },
      });
      return;
    }
    const content = objects[`${bucket}/${name}`];
    if (content === undefined) {
      sendJson(res, 404, {
        error: { code: 404, message: `No such object: ${bucket}/${name}`, errors: [{ reason: 'notFound' }] },
      });
      return;
    }
    const body = Buffer.from(content);
    res.writeHead(200, {
      'Content-Type': 'application/yaml',
      'Content-Length': body.length,
      'X-Goog-Hash': `crc32c=${crc32c(body).toString('base64')},md5=${createHash('md5').update(body).digest('base64')}`,
      'X-Goog-Stored-Content-Encoding': 'identity',
      'X-Goog-Generation': '1',
    });
    res.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// Google Secret Manager

/** A service-account key file as `gcloud iam service-accounts keys create` writes it. */
export interface ServiceAccountKey {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  token_uri: string;
}

export function newServiceAccountKey(email: string): { key: ServiceAccountKey; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    key: {
      type: 'service_account',
      project_id: 'campus',
      private_key_id: randomUUID().replace(/-/g, ''),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      client_id: '100000000000000000001',
      // Never called: the clients sign their own JWT access tokens; an exchange would fail loudly.
      token_uri: 'http://127.0.0.1:9/token',
    },
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export interface FakeSecretManagerOptions {
  /** Public keys of the service accounts the fake knows, by e-mail. */
  accounts: Record<string, string>;
  /** Secrets by `PROJECT/SECRET`: their versions' payloads (version 1 first) and who may access them. */
  secrets: Record<string, { versions: string[]; readers: string[] }>;
}

/** The caller's service account, when the bearer token is a JWT it signed with a key the fake knows. */
function callerOf(req: IncomingMessage, accounts: Record<string, string>): string | undefined {
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const [header, payload, signature] = token?.split('.') ?? [];
  if (!header || !payload || !signature) return undefined;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iss?: string; exp?: number };
  const publicKey = claims.iss ? accounts[claims.iss] : undefined;
  if (!publicKey || !claims.exp || claims.exp * 1000 < Date.now()) return undefined;
  const valid = createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(publicKey, signature, 'base64url');
  return valid ? claims.iss : undefined;
}

/** `GET /v1/projects/PROJECT/secrets/SECRET/versions/VERSION:access`, VERSION a number or `latest`. */
export function startFakeSecretManager({ accounts, secrets }: FakeSecretManagerOptions): Promise<LocalHttpServer> {
  const status = (res: ServerResponse, code: number, state: string, message: string) =>
    sendJson(res, code, { error: { code, message, status: state } });
  return startLocalHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/v1\/projects\/([^/]+)\/secrets\/([^/]+)\/versions\/([^/:]+):access$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) return status(res, 404, 'NOT_FOUND', 'Unsupported request to the fake.');
    const [, project, secret, version] = match;
    const caller = callerOf(req, accounts);
    if (!caller) {
      return status(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    }
    const resource = `projects/${project}/secrets/${secret}/versions/${version}`;
    const stored = secrets[`${project}/${secret}`];
    if (stored && !stored.readers.includes(caller)) {
      return status(
        res,
        403,
        'PERMISSION_DENIED',
        `Permission 'secretmanager.versions.access' denied for resource '${resource}' (or it may not exist).`,
      );
    }
    const number = version === 'latest' ? stored?.versions.length : Number(version);
    const payload = number ? stored?.versions[number - 1] : undefined;
    if (!stored || payload === undefined) {
      return status(res, 404, 'NOT_FOUND', `Secret Version [${resource}] not found.`);
    }
    sendJson(res, 200, {
      name: `projects/123456789012/secrets/${secret}/versions/${number}`,
      payload: { data: Buffer.from(payload).toString('base64') },
    });
  });
}

// ---------------------------------------------------------------------------------------------
// AWS Secrets Manager

export interface FakeAwsSecretsManagerOptions {
  /** Access key IDs allowed to read every secret; others get AccessDeniedException. */
  readers: string[];
  /** Secrets by name: the SecretString of each staging label. */
  secrets: Record<string, Record<string, string>>;
}

/** `POST /` with `X-Amz-Target: secretsmanager.GetSecretValue` (AWS JSON 1.1). */
export function startFakeAwsSecretsManager({
  readers,
  secrets,
}: FakeAwsSecretsManagerOptions): Promise<LocalHttpServer> {
  const fail = (res: ServerResponse, type: string, message: string) =>
    sendJson(res, 400, { __type: type, Message: message }, 'application/x-amz-json-1.1');
  return startLocalHttpServer((req, res) => {
    void readBody(req).then((body) => {
      if (req.method !== 'POST' || req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        return fail(res, 'InvalidAction', 'Unsupported request to the fake.');
      }
      const accessKey = /Credential=([^/]+)\/[^/]+\/[^/]+\/secretsmanager\/aws4_request/.exec(
        String(req.headers.authorization),
      )?.[1];
      const { SecretId, VersionStage = 'AWSCURRENT' } = JSON.parse(body) as { SecretId: string; VersionStage?: string };
      if (!accessKey || !readers.includes(accessKey)) {
        return fail(
          res,
          'AccessDeniedException',
          `User: arn:aws:iam::123456789012:user/${accessKey} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${SecretId} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
        );
      }
      const name = /^arn:aws:secretsmanager:[^:]+:\d+:secret:(.+)-[A-Za-z0-9]{6}$/.exec(SecretId)?.[1] ?? SecretId;
      const stages = secrets[name];
      if (!stages) return fail(res, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      const value = stages[VersionStage];
      if (value === undefined) {
        return fail(
          res,
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for staging label: ${VersionStage}`,
        );
      }
      sendJson(
        res,
        200,
        {
          ARN: `arn:aws:secretsmanager:eu-west-2:123456789012:secret:${name}-AbCdEf`,
          Name: name,
          VersionId: randomUUID(),
          SecretString: value,
          VersionStages: [VersionStage],
          CreatedDate: Math.floor(Date.now() / 1000),
        },
        'application/x-amz-json-1.1',
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------
// HashiCorp Vault

export interface FakeVaultOptions {
  /** KV v2 secrets by `MOUNT/PATH`: the fields of their latest version (`null`: deleted). */
  secrets: Record<string, Record<string, unknown> | null>;
  /** Tokens and the `MOUNT/PATH`s each may read. */
  tokens: Record<string, string[]>;
  /** AppRoles (at auth/approle) by role ID: their secret ID and the token a login returns. */
  appRoles?: Record<string, { secretId: string; token: string }>;
}

/** `GET /v1/MOUNT/data/PATH` (X-Vault-Token) and `POST /v1/auth/approle/login`. */
export function startFakeVault({ secrets, tokens, appRoles = {} }: FakeVaultOptions): Promise<LocalHttpServer> {
  return startLocalHttpServer((req, res) => {
    void readBody(req).then((body) => {
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      if (req.method === 'POST' && path === '/v1/auth/approle/login') {
        const { role_id, secret_id } = JSON.parse(body || '{}') as { role_id?: string; secret_id?: string };
        const role = role_id ? appRoles[role_id] : undefined;
        if (!role || role.secretId !== secret_id) return sendJson(res, 400, { errors: ['invalid role or secret ID'] });
        return sendJson(res, 200, {
          request_id: randomUUID(),
          auth: { client_token: role.token, accessor: randomUUID(), policies: ['default'], lease_duration: 2764800 },
        });
      }
      const match = /^\/v1\/([^/]+)\/data\/(.+)$/.exec(path);
      if (req.method !== 'GET' || !match) return sendJson(res, 405, { errors: ['unsupported request to the fake'] });
      const key = `${decodeURIComponent(match[1])}/${decodeURIComponent(match[2])}`;
      const token = req.headers['x-vault-token'];
      if (typeof token !== 'string' || !tokens[token]?.includes(key)) {
        return sendJson(res, 403, { errors: ['permission denied'] });
      }
      if (!(key in secrets)) return sendJson(res, 404, { errors: [] });
      const fields = secrets[key];
      sendJson(res, 200, {
        request_id: randomUUID(),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: {
          data: fields,
          metadata: {
            created_time: new Date().toISOString(),
            deletion_time: fields === null ? new Date().toISOString() : '',
            destroyed: false,
            version: 1,
          },
        },
      });
    });
  });
}
