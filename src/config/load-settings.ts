import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseYaml } from 'yaml';
import { SETTINGS_SCHEMA, SettingName, Settings } from './settings.schema';
import {
  isSettingName,
  RawSettings,
  redactUrl,
  settingValue,
  SettingsError,
  yamlValueToString,
} from './setting-values';
import { SETTINGS_SOURCES } from './sources';

export { SettingsError } from './setting-values';

export interface LoadSettingsOptions {
  /** Environment to read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Path of the .env file (default: ./.env in the working directory; missing is fine). */
  envFile?: string;
  /** Per-call overrides with the highest precedence (used by tests and the CLI). */
  overrides?: Partial<Record<SettingName, string>>;
}

const EXTERNAL_PREFIX = 'EXTERNAL_SETTING_';

/** `SETTING=SOURCE`: an entry that sets one setting (named case-insensitively) to the value read, instead of a mapping. */
const SINGLE_SETTING_ENTRY = /^([A-Za-z][A-Za-z0-9_]*)=(.+)$/s;

function safeHref(url: string): string | undefined {
  try {
    return new URL(url).href;
  } catch {
    return undefined;
  }
}

/** Settles as `work` does, or rejects once `signal` aborts, whichever comes first. */
function beforeAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** The code (ECONNREFUSED, ENOTFOUND…) of the error or of what caused it: clients wrap network errors differently. */
function systemCode(e: unknown): string | undefined {
  let cause = e as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; typeof cause === 'object' && cause !== null && depth < 5; depth++) {
    if (typeof cause.code === 'string') return cause.code;
    cause = cause.cause as typeof cause;
  }
  return undefined;
}

/** Why an entry could not be read, as safe to print: the library's words, with the URL only in its redacted form. */
function explainFailure(e: unknown, ref: string, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return `timed out after ${timeoutMs} ms`;
  const err = e as Error;
  let why = err.name === 'TimeoutError' ? 'timed out' : (systemCode(err) ?? err.message);
  // A library's message may repeat the URL; only the redacted form is ever shown.
  for (const raw of [ref, safeHref(ref)]) if (raw) why = why.split(raw).join(redactUrl(ref));
  return why;
}

/**
 * Reads one EXTRA_SETTINGS_URLS entry into `into`. `known` is every other layer plus the documents
 * read so far: what the source needs (endpoints, credentials, the timeout) may come from any of them.
 */
async function readEntry(entry: string, known: RawSettings, into: RawSettings): Promise<void> {
  const single = SINGLE_SETTING_ENTRY.exec(entry);
  const setting = single?.[1].toUpperCase();
  const ref = single ? single[2].trim() : entry;
  if (setting !== undefined && !isSettingName(setting)) {
    throw new SettingsError(`EXTRA_SETTINGS_URLS entry ${redactUrl(ref)}: unknown setting ${setting}`);
  }
  const shown = setting ? `${setting}=${redactUrl(ref)}` : redactUrl(ref);
  const source = `EXTRA_SETTINGS_URLS ${setting ? 'entry' : 'document'} ${shown}`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(ref)?.[1]?.toLowerCase() ?? 'file';
  const read = SETTINGS_SOURCES[scheme];
  if (!read) {
    const supported = Object.keys(SETTINGS_SOURCES).map((s) => `${s}://`);
    throw new SettingsError(
      `EXTRA_SETTINGS_URLS: unsupported scheme "${scheme}://" in ${shown} (supported: bare paths, ${supported.join(', ')})`,
    );
  }
  const timeoutMs = settingValue('EXTRA_SETTINGS_TIMEOUT_MS', known) as number;
  const signal = AbortSignal.timeout(timeoutMs);
  let text: string;
  try {
    const get = <K extends SettingName>(name: K) => settingValue(name, known) as Settings[K];
    text = await beforeAbort(read({ ref, setting, timeoutMs, signal, get }), signal);
  } catch (e) {
    // A setting the source needs is missing or invalid: said as such, with the entry it was needed for.
    if (e instanceof SettingsError) throw new SettingsError(`${source}: ${e.message}`);
    const target = setting ?? 'the settings it holds';
    throw new SettingsError(
      `${source}: cannot be read (${explainFailure(e, ref, signal, timeoutMs)}); it would have set ${target}`,
    );
  }
  if (setting) into[setting] = { value: text, source };
  else applyDocument(into, text, source);
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

  // The list comes from every layer except the documents themselves.
  const bootstrap: RawSettings = { ...fromDotenv, ...fromEnv, ...fromExternal, ...fromOverrides };
  const fromDocuments: RawSettings = {};
  const entries = (bootstrap.EXTRA_SETTINGS_URLS?.value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of entries) {
    await readEntry(
      entry,
      { ...fromDotenv, ...fromDocuments, ...fromEnv, ...fromExternal, ...fromOverrides },
      fromDocuments,
    );
  }

  const merged: RawSettings = { ...fromDotenv, ...fromDocuments, ...fromEnv, ...fromExternal, ...fromOverrides };
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS_SCHEMA) as SettingName[]) {
    out[name] = settingValue(name, merged);
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
