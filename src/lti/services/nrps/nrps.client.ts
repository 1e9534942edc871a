import { Injectable } from '@nestjs/common';
import { InjectSettings } from '../../../config/settings.module';
import { Settings } from '../../../config/settings.schema';
import { nextLink } from '../platform-tokens/link-header';
import { checkServiceUrl, PlatformCallError } from '../platform-tokens/platform-http';
import { PlatformTokens, TokenPlatform } from '../platform-tokens/platform-tokens.service';

export const NRPS_SCOPE = 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly';
export const MEMBERSHIPS_MEDIA = 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json';

/** A member of a context's roster (NRPS 2.0 §2.2). */
export interface NrpsMember {
  user_id: string;
  roles: string[];
  status?: string;
  name?: string;
  given_name?: string;
  family_name?: string;
  email?: string;
}

export interface RosterFilter {
  /** Only members with this role (a full URI or a short name). */
  role?: string;
  /** Only members who may see this resource link (the platform's resource link id). */
  rlid?: string;
}

/** Pages the tool asks for; the platform may send fewer per page. */
export const ROSTER_PAGE = 500;
const MAX_PAGES = 10_000;

/** Names and Role Provisioning Services 2.0: a context's memberships, page by page, following `Link: rel="next"`. */
@Injectable()
export class NrpsClient {
  constructor(
    private readonly tokens: PlatformTokens,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  async *pages(
    platform: TokenPlatform,
    membershipsUrl: string,
    filter: RosterFilter = {},
  ): AsyncGenerator<NrpsMember[]> {
    const allowInsecure = this.settings.LTI_ALLOW_INSECURE_PLATFORM_URLS;
    const first = new URL(checkServiceUrl(membershipsUrl, allowInsecure, 'context_memberships_url'));
    if (filter.role) first.searchParams.set('role', filter.role);
    if (filter.rlid) first.searchParams.set('rlid', filter.rlid);
    if (!first.searchParams.has('limit')) first.searchParams.set('limit', String(ROSTER_PAGE));
    let next: string | null = first.toString();
    for (let page = 0; next && page < MAX_PAGES; page++) {
      const res = await this.tokens.call(platform, [NRPS_SCOPE], next, {
        method: 'GET',
        headers: { Accept: MEMBERSHIPS_MEDIA },
      });
      const text = await res.text();
      let body: { members?: unknown };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new PlatformCallError(res.status, `membership container is not JSON: ${text.slice(0, 200)}`, next);
      }
      if (!Array.isArray(body.members))
        throw new PlatformCallError(res.status, 'membership container has no members', next);
      yield body.members.filter(
        (m): m is NrpsMember =>
          typeof m === 'object' &&
          m !== null &&
          typeof (m as NrpsMember).user_id === 'string' &&
          (m as NrpsMember).user_id.length > 0 &&
          (m as NrpsMember).user_id.length <= 255,
      );
      const link = nextLink(res.headers.get('link'), next);
      next = link ? checkServiceUrl(link, allowInsecure, 'next page') : null;
    }
  }
}
