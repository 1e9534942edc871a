import { Injectable } from '@nestjs/common';
import { InjectSettings } from '../../../config/settings.module';
import { Settings } from '../../../config/settings.schema';
import { checkServiceUrl, PlatformCallError } from '../platform-tokens/platform-http';
import { PlatformTokens, TokenPlatform } from '../platform-tokens/platform-tokens.service';
import { nextLink } from '../platform-tokens/link-header';

export const AGS_SCOPE = {
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  resultReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
} as const;
const AGS_SCOPES: readonly string[] = Object.values(AGS_SCOPE);

export const MEDIA = {
  lineItem: 'application/vnd.ims.lis.v2.lineitem+json',
  lineItems: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
  score: 'application/vnd.ims.lis.v1.score+json',
  results: 'application/vnd.ims.lis.v2.resultcontainer+json',
} as const;

/** The AGS endpoint claim of a launch (`https://purl.imsglobal.org/spec/lti-ags/claim/endpoint`). */
export interface AgsEndpoint {
  lineitems?: string;
  lineitem?: string;
  scope: string[];
}

export interface LineItem {
  id?: string;
  scoreMaximum: number;
  label: string;
  resourceId?: string;
  resourceLinkId?: string;
  tag?: string;
  startDateTime?: string;
  endDateTime?: string;
  gradesReleased?: boolean;
}

export const ACTIVITY_PROGRESS = ['Initialized', 'Started', 'InProgress', 'Submitted', 'Completed'] as const;
export const GRADING_PROGRESS = ['FullyGraded', 'Pending', 'PendingManual', 'Failed', 'NotReady'] as const;

/** The score+json body (AGS 2.0 §3.4). */
export interface ScoreBody {
  userId: string;
  /** ISO 8601 with milliseconds and a zone. */
  timestamp: string;
  scoreGiven?: number;
  scoreMaximum?: number;
  activityProgress: (typeof ACTIVITY_PROGRESS)[number];
  gradingProgress: (typeof GRADING_PROGRESS)[number];
  comment?: string;
}

export interface AgsResult {
  id?: string;
  scoreOf?: string;
  userId: string;
  resultScore?: number | null;
  resultMaximum?: number | null;
  comment?: string | null;
}

/** Reads the AGS claim of a launch; null when it has none usable. */
export function agsEndpointOf(claim: unknown): AgsEndpoint | null {
  if (typeof claim !== 'object' || claim === null) return null;
  const c = claim as Record<string, unknown>;
  const scope = Array.isArray(c.scope) ? c.scope.filter((s): s is string => typeof s === 'string') : [];
  const lineitems = typeof c.lineitems === 'string' && c.lineitems ? c.lineitems : undefined;
  const lineitem = typeof c.lineitem === 'string' && c.lineitem ? c.lineitem : undefined;
  if (!lineitems && !lineitem) return null;
  return { lineitems, lineitem, scope };
}

/** A service URL with a path segment added before its query (`…/lineitems/7?x=1` → `…/lineitems/7/scores?x=1`). */
export function childUrl(url: string, segment: string): string {
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${segment}`;
  return u.toString();
}

const MAX_PAGES = 1000;

/**
 * The platform side of Assignment and Grade Services 2.0: line items (list, create, update,
 * delete), scores and results, with the media types strict platforms insist on. Every call uses one
 * token for the AGS scopes the launch granted, cached by PlatformTokens.
 */
@Injectable()
export class AgsClient {
  constructor(
    private readonly tokens: PlatformTokens,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** The scopes asked for: every AGS scope the platform granted (one token serves every call). */
  scopes(endpoint: AgsEndpoint): string[] {
    const granted = endpoint.scope.filter((s) => AGS_SCOPES.includes(s));
    return granted.length ? granted : [AGS_SCOPE.score];
  }

  private url(value: string | undefined, what: string): string {
    return checkServiceUrl(value, this.settings.LTI_ALLOW_INSECURE_PLATFORM_URLS, what);
  }

  private async json<T>(res: Response): Promise<T> {
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new PlatformCallError(res.status, `answer is not JSON: ${text.slice(0, 200)}`, res.url);
    }
  }

  async listLineItems(
    platform: TokenPlatform,
    endpoint: AgsEndpoint,
    filter: { resource_link_id?: string; resource_id?: string; tag?: string } = {},
  ): Promise<LineItem[]> {
    const first = new URL(this.url(endpoint.lineitems, 'lineitems'));
    for (const [k, v] of Object.entries(filter)) if (v) first.searchParams.set(k, v);
    const out: LineItem[] = [];
    let next: string | null = first.toString();
    for (let page = 0; next && page < MAX_PAGES; page++) {
      const res = await this.tokens.call(platform, this.scopes(endpoint), next, {
        method: 'GET',
        headers: { Accept: MEDIA.lineItems },
      });
      const items = await this.json<unknown>(res);
      if (!Array.isArray(items)) throw new PlatformCallError(res.status, 'line item container is not an array', next);
      out.push(...(items as LineItem[]));
      const link = nextLink(res.headers.get('link'), next);
      next = link ? this.url(link, 'next page') : null;
    }
    return out;
  }

  async createLineItem(platform: TokenPlatform, endpoint: AgsEndpoint, item: LineItem): Promise<LineItem> {
    const res = await this.tokens.call(platform, this.scopes(endpoint), this.url(endpoint.lineitems, 'lineitems'), {
      method: 'POST',
      headers: { 'Content-Type': MEDIA.lineItem, Accept: MEDIA.lineItem },
      body: JSON.stringify(item),
    });
    return this.json<LineItem>(res);
  }

  async updateLineItem(platform: TokenPlatform, endpoint: AgsEndpoint, url: string, item: LineItem): Promise<LineItem> {
    const res = await this.tokens.call(platform, this.scopes(endpoint), this.url(url, 'lineitem'), {
      method: 'PUT',
      headers: { 'Content-Type': MEDIA.lineItem, Accept: MEDIA.lineItem },
      body: JSON.stringify({ ...item, id: url }),
    });
    return this.json<LineItem>(res);
  }

  async deleteLineItem(platform: TokenPlatform, endpoint: AgsEndpoint, url: string): Promise<void> {
    const res = await this.tokens.call(platform, this.scopes(endpoint), this.url(url, 'lineitem'), {
      method: 'DELETE',
    });
    await res.body?.cancel();
  }

  /** Posts a score to a line item; the platform's answer (status and text) for the record. */
  async postScore(
    platform: TokenPlatform,
    endpoint: AgsEndpoint,
    lineItemUrl: string,
    score: ScoreBody,
  ): Promise<{ status: number; answer: string }> {
    const res = await this.tokens.call(
      platform,
      this.scopes(endpoint),
      childUrl(this.url(lineItemUrl, 'lineitem'), 'scores'),
      { method: 'POST', headers: { 'Content-Type': MEDIA.score }, body: JSON.stringify(score) },
    );
    return { status: res.status, answer: (await res.text()).slice(0, 2000) };
  }

  async results(platform: TokenPlatform, endpoint: AgsEndpoint, lineItemUrl: string): Promise<AgsResult[]> {
    const out: AgsResult[] = [];
    let next: string | null = childUrl(this.url(lineItemUrl, 'lineitem'), 'results');
    for (let page = 0; next && page < MAX_PAGES; page++) {
      const res = await this.tokens.call(platform, this.scopes(endpoint), next, {
        method: 'GET',
        headers: { Accept: MEDIA.results },
      });
      const items = await this.json<unknown>(res);
      if (!Array.isArray(items)) throw new PlatformCallError(res.status, 'result container is not an array', next);
      out.push(...(items as AgsResult[]).filter((r) => typeof r?.userId === 'string'));
      const link = nextLink(res.headers.get('link'), next);
      next = link ? this.url(link, 'next page') : null;
    }
    return out;
  }
}
