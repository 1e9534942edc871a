import { agsEndpointOf, childUrl } from '../../src/lti/services/ags/ags.client';
import { nextLink } from '../../src/lti/services/platform-tokens/link-header';
import { PlatformCallError } from '../../src/lti/services/platform-tokens/platform-http';
import { refreshMarginSeconds } from '../../src/lti/services/platform-tokens/platform-tokens.service';

describe('LTI Advantage helpers', () => {
  it('finds rel="next" in a Link header, among other relations, resolved against the page', () => {
    const base = 'https://lms.example.edu/api/memberships?page=1';
    expect(nextLink(null, base)).toBeNull();
    expect(nextLink('<https://lms.example.edu/m?page=2>; rel="next"', base)).toBe('https://lms.example.edu/m?page=2');
    expect(
      nextLink('<https://lms.example.edu/m?page=1>; rel="first", </m?page=3>; rel=next, <x>; rel="last"', base),
    ).toBe('https://lms.example.edu/m?page=3');
    expect(nextLink('<https://lms.example.edu/m?a=1,2>; rel="prev next"', base)).toBe(
      'https://lms.example.edu/m?a=1,2',
    );
    expect(nextLink('<https://lms.example.edu/m?page=9>; rel="last"', base)).toBeNull();
  });

  it('adds the scores and results segments before a line item URL’s query', () => {
    expect(childUrl('https://lms.example.edu/api/lineitems/7?type_id=2', 'scores')).toBe(
      'https://lms.example.edu/api/lineitems/7/scores?type_id=2',
    );
    expect(childUrl('https://lms.example.edu/api/lineitems/7/', 'results')).toBe(
      'https://lms.example.edu/api/lineitems/7/results',
    );
  });

  it('reads the AGS claim, and only a usable one', () => {
    expect(agsEndpointOf(undefined)).toBeNull();
    expect(agsEndpointOf({ scope: ['x'] })).toBeNull();
    expect(agsEndpointOf({ lineitem: 'https://l/1', scope: ['s', 3] })).toEqual({
      lineitem: 'https://l/1',
      lineitems: undefined,
      scope: ['s'],
    });
  });

  it('drops a token a tenth of its life before it expires, between 5 and 60 seconds', () => {
    expect(refreshMarginSeconds(3600)).toBe(60);
    expect(refreshMarginSeconds(300)).toBe(30);
    expect(refreshMarginSeconds(20)).toBe(5);
  });

  it('retries network errors, 5xx and 429 only', () => {
    expect(new PlatformCallError(null, 'ECONNREFUSED', 'u').retryable).toBe(true);
    expect(new PlatformCallError(503, '', 'u').retryable).toBe(true);
    expect(new PlatformCallError(429, '', 'u').retryable).toBe(true);
    expect(new PlatformCallError(400, '', 'u').retryable).toBe(false);
    expect(new PlatformCallError(404, '', 'u').retryable).toBe(false);
  });
});
