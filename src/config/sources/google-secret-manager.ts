import { isLoopback } from '../setting-values';
import { describeGoogleError } from './google-errors';
import type { SettingsSource } from './types';

/** `projects/P/secrets/S/versions/V` of `sm://PROJECT/SECRET#VERSION`; the latest version without `#VERSION`. */
function versionName(ref: string): string {
  const url = new URL(ref);
  const project = url.hostname;
  const secret = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const version = decodeURIComponent(url.hash.replace(/^#/, '')) || 'latest';
  if (!project || !secret || secret.includes('/'))
    throw new Error('expected sm://PROJECT/SECRET or sm://PROJECT/SECRET#VERSION');
  return `projects/${project}/secrets/${secret}/versions/${version}`;
}

/** Client options for GOOGLE_SECRET_MANAGER_ENDPOINT (a regional or Private Service Connect endpoint, or a local emulator). */
function endpointOptions(endpoint: string | undefined): { apiEndpoint?: string; port?: number; protocol?: string } {
  if (!endpoint) return {};
  const url = new URL(endpoint);
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new Error('GOOGLE_SECRET_MANAGER_ENDPOINT may use plain http:// only for loopback hosts');
  }
  const protocol = url.protocol.replace(/:$/, '');
  return { apiEndpoint: url.hostname, port: Number(url.port || (protocol === 'http' ? 80 : 443)), protocol };
}

/**
 * `sm://PROJECT/SECRET#VERSION`: a Google Secret Manager secret version, read with application
 * default credentials over the client's HTTP/1.1 REST transport (`fallback`), so that the path
 * tested against a local fake is the one deployments take.
 */
export const readGoogleSecret: SettingsSource = async ({ ref, signal, timeoutMs, get }) => {
  const name = versionName(ref);
  const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
  const client = new SecretManagerServiceClient({
    fallback: true,
    // Node's own fetch: the auth client's HTTP library would otherwise import node-fetch, an ES module, on the first request.
    clientOptions: { transporterOptions: { fetchImplementation: fetch } },
    ...endpointOptions(get('GOOGLE_SECRET_MANAGER_ENDPOINT')),
  });
  try {
    // Loading the client may have used up the time already.
    signal.throwIfAborted();
    const [version] = await client.accessSecretVersion({ name }, { timeout: timeoutMs, maxRetries: 0 });
    const data = version.payload?.data;
    if (data === null || data === undefined) throw new Error('the secret version has no payload');
    // Bytes arrive decoded; protobuf's string form of bytes would be base64.
    return (typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data)).toString('utf8');
  } catch (e) {
    throw describeGoogleError(e);
  } finally {
    await client.close();
  }
};
