import { Injectable } from '@nestjs/common';
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { resolveKeyEncryptionSecret } from '../accounts/keys/key-encryption-secret';
import { publicUrl } from '../config/load-settings';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';

/**
 * Absolute URLs that work without credentials until they expire: `?expires=<unix seconds>&signature=`
 * an HMAC-SHA256 of the path and the expiry, with a key derived (HKDF) from KEY_ENCRYPTION_SECRET, so
 * every replica that shares the secret signs and checks alike. Compared in constant time.
 */
@Injectable()
export class SignedUrls {
  private readonly key: Buffer;
  private readonly base: string;

  constructor(@InjectSettings() private readonly settings: Settings) {
    const secret = resolveKeyEncryptionSecret(settings).secret;
    this.key = Buffer.from(hkdfSync('sha256', secret, 'campus-access', 'registrar signed urls', 32));
    this.base = publicUrl(settings);
  }

  /** `path` (starting with /) signed for REGISTRAR_RESULT_URL_TTL_SECONDS from now. */
  sign(path: string, now = Date.now()): string {
    const expires = Math.floor(now / 1000) + this.settings.REGISTRAR_RESULT_URL_TTL_SECONDS;
    return `${this.base}${path}?expires=${expires}&signature=${this.mac(path, expires)}`;
  }

  /** Whether `signature` is ours for `path` and `expires`, and the link has not expired. */
  verify(path: string, expires: unknown, signature: unknown, now = Date.now()): boolean {
    if (typeof expires !== 'string' || typeof signature !== 'string' || !/^\d{1,12}$/.test(expires)) return false;
    const expected = Buffer.from(this.mac(path, Number(expires)), 'utf8');
    const given = Buffer.from(signature, 'utf8');
    const authentic = given.length === expected.length && timingSafeEqual(given, expected);
    return authentic && Number(expires) * 1000 > now;
  }

  private mac(path: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${path}\n${expires}`).digest('base64url');
  }
}
