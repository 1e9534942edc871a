import { createHash, createHmac } from 'node:crypto';
import { digestsEqual, sha256Hex } from '../../common/crypto/secrets';

/**
 * OAuth 1.0a (RFC 5849) HMAC-SHA1 signatures, as LTI 1.1 uses them: consumer key and secret, no token
 * (its secret is the empty string), parameters in the form body or the Authorization header.
 */

/** One request parameter; duplicates are kept (RFC 5849 §3.4.1.3.1). */
export type OAuthParam = readonly [name: string, value: string];

/** The only signature method accepted and used. */
export const SIGNATURE_METHOD = 'HMAC-SHA1';

/**
 * RFC 5849 §3.6: UTF-8, then every octet outside the unreserved set (ALPHA, DIGIT, `-`, `.`, `_`, `~`)
 * as `%XX` with upper-case hex. `encodeURIComponent` leaves `!'()*` alone, so they are encoded here.
 * A string with a lone surrogate has no UTF-8 form: that throws (a malformed request).
 */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * RFC 5849 §3.4.1.2: scheme and host lower-cased, the port only when it is not the scheme's default,
 * the path, and neither query nor fragment. The query's parameters are signed among the others.
 */
export function baseStringUri(url: string | URL): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  // WHATWG URL already lower-cases scheme and host and drops a default port (80 for http, 443 for https).
  return `${u.protocol.toLowerCase()}//${u.host.toLowerCase()}${u.pathname || '/'}`;
}

/** The parameters of a query string or form body, decoded as application/x-www-form-urlencoded (`+` is a space). */
export function formParams(encoded: string): OAuthParam[] {
  const out: OAuthParam[] = [];
  for (const [name, value] of new URLSearchParams(encoded)) out.push([name, value]);
  return out;
}

/** RFC 5849 §3.4.1.3.2: each name and value encoded, sorted by name then value (octet order), joined by `=` and `&`. */
export function normalizeParams(params: readonly OAuthParam[]): string {
  const encoded = params
    .filter(([name]) => name !== 'oauth_signature')
    .map(([name, value]) => [percentEncode(name), percentEncode(value)] as const);
  encoded.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return encoded.map(([name, value]) => `${name}=${value}`).join('&');
}

/**
 * RFC 5849 §3.4.1: `METHOD&encoded base string URI&encoded normalized parameters`. The parameters are
 * the URL's query parameters plus `params` (form body and Authorization header parameters, `realm` excluded).
 */
export function signatureBaseString(method: string, url: string | URL, params: readonly OAuthParam[]): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  const all = [...formParams(u.search.slice(1)), ...params];
  return [method.toUpperCase(), percentEncode(baseStringUri(u)), percentEncode(normalizeParams(all))].join('&');
}

/** RFC 5849 §3.4.2: HMAC-SHA1 keyed by `encode(consumer secret)&encode(token secret)`, base64. */
export function hmacSha1Signature(baseString: string, consumerSecret: string, tokenSecret = ''): string {
  const key = `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`;
  return createHmac('sha1', key).update(baseString, 'utf8').digest('base64');
}

/** Whether `signature` is the HMAC-SHA1 signature of the request, compared in constant time. */
export function signatureMatches(
  signature: string,
  method: string,
  url: string | URL,
  params: readonly OAuthParam[],
  consumerSecret: string,
): boolean {
  const expected = hmacSha1Signature(signatureBaseString(method, url, params), consumerSecret);
  // Digests of both: equal lengths, so the comparison takes the same time whatever the signature sent.
  return digestsEqual(sha256Hex(signature), sha256Hex(expected));
}

/** The OAuth Body Hash extension: base64 of the SHA-1 of the exact body bytes. */
export function bodyHash(body: string | Buffer): string {
  return createHash('sha1').update(body).digest('base64');
}

/** RFC 5849 §3.5.1: `OAuth k="v", …` with every name and value percent-encoded. */
export function authorizationHeader(params: readonly OAuthParam[]): string {
  return `OAuth ${params.map(([k, v]) => `${percentEncode(k)}="${percentEncode(v)}"`).join(', ')}`;
}

/**
 * The parameters of an `Authorization: OAuth …` header (RFC 5849 §3.5.1), decoded; `realm` is left
 * out (it is not signed). Null when the header is not an OAuth one or is malformed.
 */
export function parseAuthorizationHeader(header: string | undefined): OAuthParam[] | null {
  const m = header ? /^OAuth\s+(.*)$/is.exec(header.trim()) : null;
  if (!m) return null;
  const out: OAuthParam[] = [];
  // Names and values are percent-encoded, so neither holds a comma or a quote.
  for (const part of m[1].split(',')) {
    if (!part.trim()) continue;
    const kv = /^\s*([^=\s"]+)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (!kv) return null;
    try {
      const name = decodeURIComponent(kv[1]);
      if (name !== 'realm') out.push([name, decodeURIComponent(kv[2])]);
    } catch {
      return null;
    }
  }
  return out;
}

export interface SignRequest {
  method: string;
  url: string;
  consumerKey: string;
  consumerSecret: string;
  /** Form body parameters (a launch) or the body hash parameter (an outcome request). */
  params?: readonly OAuthParam[];
  nonce: string;
  timestamp: number;
}

/** The oauth_* parameters of a signed request, `oauth_signature` last. */
export function signRequest(r: SignRequest): OAuthParam[] {
  const oauth: OAuthParam[] = [
    ['oauth_consumer_key', r.consumerKey],
    ['oauth_nonce', r.nonce],
    ['oauth_signature_method', SIGNATURE_METHOD],
    ['oauth_timestamp', String(r.timestamp)],
    ['oauth_version', '1.0'],
  ];
  const signature = hmacSha1Signature(
    signatureBaseString(r.method, r.url, [...(r.params ?? []), ...oauth]),
    r.consumerSecret,
  );
  return [...oauth, ['oauth_signature', signature]];
}
