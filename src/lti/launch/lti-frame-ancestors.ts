import { Injectable } from '@nestjs/common';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { LtiPlatformsRepository } from '../platforms/lti-platforms.repository';

/** How long the list of origins is used before the platforms are read again (another instance's registrations). */
const TTL_MS = 30_000;

/** A CSP host source: an origin, a host, or a host with a leading `*.` wildcard (no path). */
const HOST_SOURCE = /^(https?:\/\/)?(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:(\d{1,5}|\*))?$/i;

const originOf = (url: string): string | null => {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
};

/**
 * Who may frame the tool's LTI pages (login and launch pages, the app page): the CSP
 * `frame-ancestors` of those pages. The origins of the registered, live platforms (their issuer and
 * their OIDC login URL), and the LTI_FRAME_ANCESTORS setting's sources for LMSs whose course pages
 * are on other hosts than either (Canvas: `https://*.instructure.com`); nobody else, and `'none'`
 * when no platform is registered. Read from the database at most every 30 s per process, and again
 * at once after a registration change made by this process.
 */
@Injectable()
export class LtiFrameAncestors {
  private readonly extra: string[];
  private cached?: { at: number; value: Promise<string> };

  constructor(
    private readonly platforms: LtiPlatformsRepository,
    @InjectSettings() settings: Settings,
  ) {
    this.extra = settings.LTI_FRAME_ANCESTORS.map((s) => s.trim()).filter(Boolean);
    const bad = this.extra.filter((s) => !HOST_SOURCE.test(s));
    if (bad.length) throw new Error(`LTI_FRAME_ANCESTORS: not a CSP host source: ${bad.join(', ')}`);
  }

  /** The `frame-ancestors` sources, e.g. `https://lms.example.edu https://*.instructure.com`, or `'none'`. */
  sources(): Promise<string> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > TTL_MS) {
      const value = this.load();
      this.cached = { at: now, value };
      // A failed read is not kept: the next page tries again.
      value.catch(() => (this.cached = undefined));
    }
    return this.cached.value;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async load(): Promise<string> {
    const urls = await this.platforms.liveOrigins();
    const origins = new Set<string>();
    for (const url of urls) {
      const origin = originOf(url);
      if (origin) origins.add(origin);
    }
    for (const source of this.extra) origins.add(source);
    return origins.size ? [...origins].sort().join(' ') : "'none'";
  }
}
