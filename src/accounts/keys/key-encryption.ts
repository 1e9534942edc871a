import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { SettingsError } from '../../config/setting-values';

/** AES-256-GCM with a key derived (HKDF-SHA256) from the key-encryption secret. */
export class KeyEncryption {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'campus-access', 'signing-key-encryption', 32));
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), ct].map((b) => b.toString('base64url')).join('.');
  }

  /**
   * The plaintext of a value `encrypt` sealed. A value sealed under another secret fails GCM's
   * authentication: a SettingsError naming the setting, the one line start-up prints.
   */
  decrypt(sealed: string): string {
    const [iv, tag, ct] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
    } catch {
      throw new SettingsError(
        'KEY_ENCRYPTION_SECRET does not match the secret the stored signing keys were encrypted with; set that secret again',
      );
    }
  }
}
