import { readFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseYaml } from 'yaml';
import { SETTINGS_SCHEMA, SettingName, Settings, SettingSpec } from './settings.schema';

/** Raised for any setting problem; the message names the setting and where it came from, never a secret value. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

type Raw = { value: string; source: string };
type RawSettings = Partial<Record<SettingName, Raw>>;

export interface LoadSettingsOptions {
  /** Environment to read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Path of the .env file (default: ./.env in the working directory; missing is fine). */
  envFile?: string;
  /** Per-call overrides with the highest precedence (used by tests and the CLI). */
  overrides?: Partial<Record<SettingName, string>>;
}

const EXTERNAL_PREFIX = 'EXTERNAL_SETTING_';

function isSettingName(name: string): name is SettingName {
  return Object.prototype.hasOwnProperty.call(SETTINGS_SCHEMA, name);
}

/** A YAML value as the string the environment would carry. */
function yamlValueToString(value: unknown): string {
  if (value === null || value === undefined) return '';
  // Structured values (e.g. TRUSTED_ISSUERS) travel as JSON, which is also valid YAML.
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null))
    return value.map(String).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.username) u.username = '***';
    u.search = u.search ? '?…' : '';
    return u.toString();
  } catch {
    return url;
  }
}

function safeHref(url: string): string | undefined {
  try {
    return new URL(url).href;
  } catch {
    return undefined;
  }
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

async function fetchHttpDocument(ref: string, timeoutMs: number): Promise<string> {
  const url = new URL(ref);
  const headers: Record<string, string> = {};
  // fetch refuses credentials in the URL (and would print them in its error); they are sent as Basic auth.
  if (url.username || url.password) {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (e) {
    // fetch only says "fetch failed"; the cause says why (ECONNREFUSED, a TLS error, an unknown host…).
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    if (!cause) throw e;
    throw Object.assign(new Error(cause.message ?? 'fetch failed'), { code: cause.code });
  }
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.text();
}

async function fetchS3Document(url: URL, layer: RawSettings, timeoutMs: number): Promise<string> {
  const { S3Client, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const bucket = url.hostname;
  const key = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!bucket || !key) throw new Error('expected s3://bucket/key');
  const client = new S3Client({
    region: layer.S3_REGION?.value ?? SETTINGS_SCHEMA.S3_REGION.default,
    endpoint: layer.S3_ENDPOINT?.value || undefined,
    forcePathStyle: /^(1|true|yes|on)$/i.test(layer.S3_FORCE_PATH_STYLE?.value ?? ''),
  });
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    if (!out.Body) throw new Error('empty object');
    return await out.Body.transformToString('utf8');
  } catch (e) {
    // The SDK reports "Request aborted"; the reason is the timeout.
    throw signal.aborted ? signal.reason : e;
  } finally {
    client.destroy();
  }
}

/** Reads one EXTRA_SETTINGS_URLS entry. `layer` is what is known so far (for S3 endpoint and timeout). */
async function readSettingsDocument(ref: string, layer: RawSettings): Promise<string> {
  const timeoutMs = Number(layer.EXTRA_SETTINGS_TIMEOUT_MS?.value ?? SETTINGS_SCHEMA.EXTRA_SETTINGS_TIMEOUT_MS.default);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(ref)?.[1]?.toLowerCase();
  if (!scheme) return readFile(resolve(ref), 'utf8');
  const url = new URL(ref);
  switch (scheme) {
    case 'file':
      return readFile(fileURLToPath(url), 'utf8');
    case 'https':
      return fetchHttpDocument(ref, timeoutMs);
    case 'http':
      // Plain HTTP would let anyone on the path rewrite settings; it is only accepted from this machine.
      if (!isLoopback(url.hostname)) throw new Error('plain http:// is only accepted for loopback hosts; use https://');
      return fetchHttpDocument(ref, timeoutMs);
    case 's3':
      return fetchS3Document(url, layer, timeoutMs);
    default:
      throw new SettingsError(
        `EXTRA_SETTINGS_URLS: unsupported scheme "${scheme}://" in ${redactUrl(ref)} (supported: file://, bare paths, https://, s3://)`,
      );
  }
}

function applyDocument(target: RawSettings, text: string, source: string): void {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new SettingsError(`${source}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  if (doc === null || doc === undefined) return;
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new SettingsError(`${source}: expected a mapping of setting names to values`);
  }
  for (const [rawName, value] of Object.entries(doc as Record<string, unknown>)) {
    const name = rawName.toUpperCase();
    if (!isSettingName(name)) throw new SettingsError(`${source}: unknown setting ${rawName}`);
    try {
      target[name] = { value: yamlValueToString(value), source };
    } catch (e) {
      throw new SettingsError(`Invalid setting ${name} from ${source}: ${(e as Error).message}`);
    }
  }
}

function convert(name: SettingName, spec: SettingSpec, raw: Raw): unknown {
  const fail = (why: string): never => {
    const shown = spec.secret ? '' : ` (got "${raw.value.length > 80 ? raw.value.slice(0, 80) + '…' : raw.value}")`;
    throw new SettingsError(`Invalid setting ${name} from ${raw.source}: ${why}${shown}`);
  };
  const value = raw.value.trim();
  switch (spec.kind) {
    case 'string':
      if (spec.pattern && !spec.pattern.test(value)) return fail(`must match ${spec.pattern.source}`);
      return value;
    case 'int':
    case 'duration_ms': {
      if (!/^-?\d+$/.test(value)) return fail('expected a whole number');
      const n = Number(value);
      if (spec.min !== undefined && n < spec.min) return fail(`must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) return fail(`must be at most ${spec.max}`);
      return n;
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(value)) return true;
      if (/^(0|false|no|off)$/i.test(value)) return false;
      return fail('expected true or false');
    case 'enum':
      if (!spec.values?.includes(value)) return fail(`expected one of ${spec.values?.join(', ')}`);
      return value;
    case 'list':
      return value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'url':
      try {
        new URL(value);
      } catch {
        return fail('expected a URL');
      }
      return value;
  }
}

function pickKnown(values: Record<string, string | undefined>, source: string, into: RawSettings): void {
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && isSettingName(name)) into[name] = { value, source };
  }
}

/**
 * Builds the settings, lowest to highest precedence: defaults, .env, EXTRA_SETTINGS_URLS documents
 * (in order, later winning), the environment, EXTERNAL_SETTING_<NAME> (YAML values), then overrides.
 * An empty value means "not set" for settings without a default.
 */
export async function loadSettings(options: LoadSettingsOptions = {}): Promise<Settings> {
  const env = options.env ?? process.env;
  const envFile = resolve(options.envFile ?? env.ENV_FILE ?? '.env');

  const fromDotenv: RawSettings = {};
  if (existsSync(envFile)) pickKnown(parseDotenv(readFileSync(envFile)), `.env file ${envFile}`, fromDotenv);
  const fromEnv: RawSettings = {};
  pickKnown(env, 'environment', fromEnv);

  const fromExternal: RawSettings = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(EXTERNAL_PREFIX) || value === undefined) continue;
    const name = key.slice(EXTERNAL_PREFIX.length);
    const source = `environment ${key}`;
    if (!isSettingName(name)) throw new SettingsError(`${source}: unknown setting ${name}`);
    let parsed: unknown;
    try {
      parsed = parseYaml(value);
      fromExternal[name] = { value: yamlValueToString(parsed), source };
    } catch (e) {
      throw new SettingsError(`Invalid setting ${name} from ${source}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const fromOverrides: RawSettings = {};
  pickKnown(options.overrides ?? {}, 'overrides', fromOverrides);

  // The document list (and how to reach S3) comes from every layer except the documents themselves.
  const bootstrap: RawSettings = { ...fromDotenv, ...fromEnv, ...fromExternal, ...fromOverrides };
  const fromDocuments: RawSettings = {};
  const refs = (bootstrap.EXTRA_SETTINGS_URLS?.value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const ref of refs) {
    const source = `EXTRA_SETTINGS_URLS document ${redactUrl(ref)}`;
    let text: string;
    try {
      text = await readSettingsDocument(ref, { ...fromDotenv, ...fromDocuments, ...fromEnv, ...fromExternal });
    } catch (e) {
      if (e instanceof SettingsError) throw e;
      const err = e as Error & { code?: string };
      let why = err.name === 'TimeoutError' ? 'timed out' : (err.code ?? err.message);
      // A library's message may repeat the URL; only the redacted form is ever shown.
      for (const raw of [ref, safeHref(ref)]) if (raw) why = why.split(raw).join(redactUrl(ref));
      throw new SettingsError(`${source}: cannot be read (${why})`);
    }
    applyDocument(fromDocuments, text, source);
  }

  const merged: RawSettings = { ...fromDotenv, ...fromDocuments, ...fromEnv, ...fromExternal, ...fromOverrides };
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SETTINGS_SCHEMA) as [SettingName, SettingSpec][]) {
    const raw = merged[name];
    if (raw !== undefined && raw.value.trim() !== '') out[name] = convert(name, spec, raw);
    else if (spec.default !== undefined) out[name] = convert(name, spec, { value: spec.default, source: 'default' });
    else out[name] = undefined;
  }
  checkTogether(out as unknown as Settings);
  return Object.freeze(out) as Settings;
}

/** Settings that are valid one by one but not together. */
function checkTogether(s: Settings): void {
  if (s.HTTP_HEADERS_TIMEOUT_MS > s.HTTP_REQUEST_TIMEOUT_MS) {
    throw new SettingsError(
      `HTTP_HEADERS_TIMEOUT_MS (${s.HTTP_HEADERS_TIMEOUT_MS}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${s.HTTP_REQUEST_TIMEOUT_MS}): the headers are part of the request`,
    );
  }
  if (s.JOB_HEARTBEAT_TIMEOUT_MS <= 2 * s.JOB_HEARTBEAT_INTERVAL_MS) {
    throw new SettingsError(
      `JOB_HEARTBEAT_TIMEOUT_MS (${s.JOB_HEARTBEAT_TIMEOUT_MS}) must exceed twice JOB_HEARTBEAT_INTERVAL_MS (${s.JOB_HEARTBEAT_INTERVAL_MS}): a worker that missed one heartbeat would lose its jobs`,
    );
  }
}

/** Where the server can be reached from outside. */
export function publicUrl(settings: Settings): string {
  return (settings.PUBLIC_URL ?? `http://localhost:${settings.PORT}`).replace(/\/+$/, '');
}
