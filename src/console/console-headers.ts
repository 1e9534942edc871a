import { Injectable } from '@nestjs/common';
import { LtiPlatformsService } from '../lti/platforms/lti-platforms.service';

/** How long the registered platforms' origins are kept before they are read again. */
export const FRAME_ORIGINS_TTL_MS = 10_000;

/** The console's pages run no inline script or style and talk to their own origin only. */
export function consoleCsp(frameAncestors: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

/**
 * The frame-ancestors of the console's LTI landing page: the origins of the registered LTI platforms
 * (their LMS pages embed the launch), read through the LTI module and kept briefly. Every other
 * console page may not be framed at all.
 */
@Injectable()
export class ConsoleFrameAncestors {
  private cached: { value: string; until: number } | null = null;
  private loading: Promise<string> | null = null;

  constructor(private readonly platforms: LtiPlatformsService) {}

  async forLtiPages(): Promise<string> {
    if (this.cached && this.cached.until > Date.now()) return this.cached.value;
    this.loading ??= this.platforms
      .frameOrigins()
      .then((origins) => {
        const value = origins.length > 0 ? origins.join(' ') : "'none'";
        this.cached = { value, until: Date.now() + FRAME_ORIGINS_TTL_MS };
        return value;
      })
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }
}
