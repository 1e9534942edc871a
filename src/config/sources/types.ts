import type { SettingName, Settings } from '../settings.schema';

/** One EXTRA_SETTINGS_URLS entry, as a source gets it. */
export interface SourceRequest {
  /** The entry without its `SETTING=` prefix: a bare path or a URL. */
  ref: string;
  /** The setting a `SETTING=` prefix names: the source then returns that one setting's value. */
  setting?: SettingName;
  /** EXTRA_SETTINGS_TIMEOUT_MS, for clients that take a timeout rather than a signal. */
  timeoutMs: number;
  /** Aborts after EXTRA_SETTINGS_TIMEOUT_MS; a source hands it to every request it makes. */
  signal: AbortSignal;
  /** A setting as known before this entry: every layer, documents listed earlier included. */
  get<K extends SettingName>(name: K): Settings[K];
}

/**
 * Reads one entry: the text of a YAML mapping of settings or, when the request names a setting,
 * that setting's value. Errors carry a message that is safe to print: it may name the object, never
 * a credential or a fetched value.
 */
export type SettingsSource = (request: SourceRequest) => Promise<string>;

/** Turns an HTTP-level failure of fetch ("fetch failed") into its cause (ECONNREFUSED, a TLS error…). */
export async function fetchExplained(url: URL | string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    if (!cause) throw e;
    throw Object.assign(new Error(cause.message ?? 'fetch failed'), { code: cause.code });
  }
}
