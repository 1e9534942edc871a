import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CryptoKey, exportSPKI, importJWK, JWK } from 'jose';
import { SigningKeyRing } from '../../accounts/keys/signing-key-ring';
import { SigningKeyRings } from '../../accounts/keys/signing-keys.service';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';

/**
 * The tool's own keys, published at /lti/jwks.json: what the tool signs for platforms (client
 * assertions for grade and roster services, deep-linking answers) is verified with them. One
 * active key; after a rotation the previous one stays published for LTI_TOOL_KEY_OVERLAP_SECONDS
 * (platforms cache tool keysets) plus a reload interval, exactly as our token-signing keys do.
 */
@Injectable()
export class LtiToolKeysService implements OnModuleInit, OnModuleDestroy {
  readonly ring: SigningKeyRing;
  private pem?: { kid: string; pem: Promise<string> };

  constructor(rings: SigningKeyRings, @InjectSettings() settings: Settings) {
    this.ring = rings.open({
      purpose: 'lti_tool',
      alg: () => 'RS256',
      retiringSeconds: () => settings.SIGNING_KEYS_RELOAD_SECONDS + settings.LTI_TOOL_KEY_OVERLAP_SECONDS,
      reloadSeconds: settings.SIGNING_KEYS_RELOAD_SECONDS,
      typ: 'JWT',
    });
  }

  onModuleInit(): Promise<void> {
    return this.ring.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.ring.stop();
  }

  jwks(): { keys: JWK[] } {
    return this.ring.jwks();
  }

  /** The active public key as a JWK and as a PEM (LMSs that take a pasted key rather than a keyset URL). */
  async activeKey(): Promise<{ jwk: JWK; pem: string } | null> {
    const kid = this.ring.activeKid;
    const key = kid ? this.ring.publishedKey(kid) : undefined;
    if (!kid || !key) return null;
    if (this.pem?.kid !== kid) {
      this.pem = {
        kid,
        pem: importJWK(key.jwk, key.alg, { extractable: true }).then((k) => exportSPKI(k as CryptoKey)),
      };
    }
    return { jwk: key.jwk, pem: await this.pem.pem };
  }
}
