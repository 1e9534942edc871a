import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, RemoteJWKSet } from 'jose';
import { setBounded } from '../../common/collections/bounded-map';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';

/** Platforms whose JWKS resolvers are kept at most; the least recently created go first. */
const MAX_PLATFORMS = 1000;

/**
 * The platforms' signing keys, fetched from their JWKS URLs with jose's remote key set: kept for
 * LTI_JWKS_CACHE_TTL_SECONDS, and an id_token naming a `kid` the set does not have refetches it at
 * most once per LTI_JWKS_REFETCH_INTERVAL_SECONDS (a platform that rotated its key), so a launch
 * normally fetches nothing. One resolver per platform and JWKS URL: a changed URL starts afresh.
 */
@Injectable()
export class PlatformKeys {
  private readonly sets = new Map<string, { url: string; set: RemoteJWKSet }>();

  constructor(@InjectSettings() private readonly settings: Settings) {}

  for(platform: { id: string; jwksUrl: string }): RemoteJWKSet {
    const known = this.sets.get(platform.id);
    if (known?.url === platform.jwksUrl) return known.set;
    const set = createRemoteJWKSet(new URL(platform.jwksUrl), {
      cacheMaxAge: this.settings.LTI_JWKS_CACHE_TTL_SECONDS * 1000,
      cooldownDuration: this.settings.LTI_JWKS_REFETCH_INTERVAL_SECONDS * 1000,
      timeoutDuration: this.settings.LTI_JWKS_TIMEOUT_MS,
      headers: { accept: 'application/json' },
    });
    setBounded(this.sets, platform.id, { url: platform.jwksUrl, set }, MAX_PLATFORMS);
    return set;
  }
}
