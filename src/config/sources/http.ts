import { isLoopback } from '../setting-values';
import { fetchExplained, SettingsSource } from './types';

/** `https://…`, and `http://…` on loopback; credentials in the URL are sent as Basic authentication. */
export const readHttpDocument: SettingsSource = async ({ ref, signal }) => {
  const url = new URL(ref);
  // Plain HTTP would let anyone on the path rewrite settings; it is only accepted from this machine.
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new Error('plain http:// is only accepted for loopback hosts; use https://');
  }
  const headers: Record<string, string> = {};
  // fetch refuses credentials in the URL (and would print them in its error); they are sent as Basic auth.
  if (url.username || url.password) {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const res = await fetchExplained(url, { headers, signal, redirect: 'error' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.text();
};
