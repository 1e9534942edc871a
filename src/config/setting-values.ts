import { isIP } from 'node:net';
import { SETTINGS_SCHEMA, SettingName, SettingSpec } from './settings.schema';

/** Raised for any setting problem; the message names the setting and where it came from, never a secret value. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

/** A setting's value as written, and where it was written (for error messages). */
export type Raw = { value: string; source: string };
export type RawSettings = Partial<Record<SettingName, Raw>>;

export function isSettingName(name: string): name is SettingName {
  return Object.prototype.hasOwnProperty.call(SETTINGS_SCHEMA, name);
}

/** A YAML value as the string the environment would carry. */
export function yamlValueToString(value: unknown): string {
  if (value === null || value === undefined) return '';
  // Structured values (e.g. TRUSTED_ISSUERS) travel as JSON, which is also valid YAML.
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null))
    return value.map(String).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The URL as it may be shown: user, password and query hidden. */
export function redactUrl(url: string): string {
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

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Converts a raw value to the setting's type, or throws a SettingsError naming the setting and its source. */
export function convert(name: SettingName, spec: SettingSpec, raw: Raw): unknown {
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

/** The typed value of `name` in `raw`: its own value when set and not empty, else its default. */
export function settingValue(name: SettingName, raw: RawSettings): unknown {
  const spec: SettingSpec = SETTINGS_SCHEMA[name];
  const given = raw[name];
  if (given !== undefined && given.value.trim() !== '') return convert(name, spec, given);
  if (spec.default !== undefined) return convert(name, spec, { value: spec.default, source: 'default' });
  return undefined;
}
