import { text } from 'node:stream/consumers';
import { describeGoogleError } from './google-errors';
import type { SettingsSource } from './types';

/**
 * `gs://BUCKET/OBJECT`: an object of a Google Cloud Storage bucket, read with application default
 * credentials. The client itself honours STORAGE_EMULATOR_HOST (the JSON API's base URL, e.g.
 * `http://127.0.0.1:4443/storage/v1`), which then sends no credentials.
 */
export const readGcsObject: SettingsSource = async ({ ref, signal, timeoutMs }) => {
  const url = new URL(ref);
  const bucket = url.hostname;
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!bucket || !name) throw new Error('expected gs://BUCKET/OBJECT');
  const { Storage } = await import('@google-cloud/storage');
  // One attempt: start-up should fail fast and say why, not retry for a minute.
  const storage = new Storage({ retryOptions: { autoRetry: false, maxRetries: 0 }, timeout: timeoutMs });
  const stream = storage.bucket(bucket).file(name).createReadStream();
  const abort = () => stream.destroy(signal.reason as Error);
  signal.addEventListener('abort', abort, { once: true });
  try {
    return await text(stream);
  } catch (e) {
    throw describeGoogleError(e);
  } finally {
    signal.removeEventListener('abort', abort);
  }
};
