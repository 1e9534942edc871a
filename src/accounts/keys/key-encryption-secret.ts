import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Settings } from '../../config/settings.schema';

export interface ResolvedSecret {
  secret: string;
  generated: boolean;
  file?: string;
}

/**
 * KEY_ENCRYPTION_SECRET, or outside production a secret generated once into DATA_DIR
 * (so the embedded default works with nothing configured).
 */
export function resolveKeyEncryptionSecret(settings: Settings): ResolvedSecret {
  if (settings.KEY_ENCRYPTION_SECRET) {
    if (settings.KEY_ENCRYPTION_SECRET.length < 32)
      throw new Error('KEY_ENCRYPTION_SECRET must be at least 32 characters');
    return { secret: settings.KEY_ENCRYPTION_SECRET, generated: false };
  }
  if (settings.NODE_ENV === 'production') {
    throw new Error('KEY_ENCRYPTION_SECRET is required in production (32+ random characters)');
  }
  const dir = resolve(settings.DATA_DIR);
  const file = join(dir, 'key-encryption.secret');
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim(), generated: false, file };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return { secret, generated: true, file };
}
