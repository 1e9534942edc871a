import { Injectable } from '@nestjs/common';
import { KeyEncryption } from '../accounts/keys/key-encryption';
import { resolveKeyEncryptionSecret } from '../accounts/keys/key-encryption-secret';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { WebhookSubscription } from './webhook-subscription.entity';

/** Webhook signing secrets, encrypted at rest with the key-encryption secret (they are needed in clear to sign). */
@Injectable()
export class WebhookSecrets {
  private readonly encryption: KeyEncryption;

  constructor(@InjectSettings() settings: Settings) {
    this.encryption = new KeyEncryption(resolveKeyEncryptionSecret(settings).secret);
  }

  seal(secret: string): string {
    return this.encryption.encrypt(secret);
  }

  /** The current secret, and the previous one while its overlap lasts. */
  signingSecrets(s: WebhookSubscription, now = Date.now()): string[] {
    const secrets = [this.encryption.decrypt(s.secretEncrypted)];
    if (s.previousSecretEncrypted && s.previousSecretExpiresAt && new Date(s.previousSecretExpiresAt).getTime() > now)
      secrets.push(this.encryption.decrypt(s.previousSecretEncrypted));
    return secrets;
  }
}
