import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalHttpServer, startLocalHttpServer } from './local-http';

/**
 * A test-side LTI 1.1 consumer (an LMS), written from RFC 5849 and the IMS LTI 1.1 / Basic Outcomes
 * specs independently of src/lti/v1p1/oauth1.ts: it signs launches (HMAC-SHA1 over the form), and
 * runs an outcome service that checks the body hash and the OAuth signature of what the tool sends
 * and answers what the test asks for.
 */

/** RFC 5849 §3.6, byte by byte. */
export function rfc3986(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) && byte < 0x80 ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function baseString(method: string, url: string, params: [string, string][]): string {
  const u = new URL(url);
  const defaultPort = (u.protocol === 'http:' && u.port === '80') || (u.protocol === 'https:' && u.port === '443');
  const authority = u.hostname.toLowerCase() + (u.port && !defaultPort ? `:${u.port}` : '');
  const uri = `${u.protocol.toLowerCase()}//${authority}${u.pathname}`;
  const query: [string, string][] = [];
  for (const [k, v] of u.searchParams) query.push([k, v]);
  const pairs = [...query, ...params]
    .filter(([k]) => k !== 'oauth_signature')
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .sort((a, b) => {
      const [an, av] = a.split('=');
      const [bn, bv] = b.split('=');
      return an === bn ? (av < bv ? -1 : av > bv ? 1 : 0) : an < bn ? -1 : 1;
    });
  return `${method.toUpperCase()}&${rfc3986(uri)}&${rfc3986(pairs.join('&'))}`;
}

export function hmac(base: string, secret: string): string {
  return createHmac('sha1', `${rfc3986(secret)}&`)
    .update(base)
    .digest('base64');
}

export interface SignOptions {
  timestamp?: number;
  nonce?: string;
  /** Sign with this URL instead of the one posted to (a consumer configured with another URL). */
  signedUrl?: string;
  secret?: string;
  method?: string;
  version?: string | null;
}

/** A launch form: the LTI parameters plus oauth_* and oauth_signature (repeated parameters as [k, v] pairs). */
export function signLaunch(
  url: string,
  params: [string, string][],
  key: string,
  secret: string,
  o: SignOptions = {},
): [string, string][] {
  const oauth: [string, string][] = [
    ['oauth_consumer_key', key],
    ['oauth_signature_method', o.method ?? 'HMAC-SHA1'],
    ['oauth_timestamp', String(o.timestamp ?? Math.floor(Date.now() / 1000))],
    ['oauth_nonce', o.nonce ?? randomBytes(12).toString('hex')],
    ...(o.version === null ? [] : [['oauth_version', o.version ?? '1.0'] as [string, string]]),
    ['oauth_callback', 'about:blank'],
  ];
  const all = [...params, ...oauth];
  const signature = hmac(baseString('POST', o.signedUrl ?? url, all), o.secret ?? secret);
  return [...all, ['oauth_signature', signature]];
}

/** application/x-www-form-urlencoded, as browsers send an LMS's auto-submitted form (spaces as `+`). */
export function formBody(fields: [string, string][]): string {
  return fields
    .map(([k, v]) => `${encodeURIComponent(k).replace(/%20/g, '+')}=${encodeURIComponent(v).replace(/%20/g, '+')}`)
    .join('&');
}

export type OutcomeAnswer = 'success' | 'failure' | 'unsupported' | 'http500' | 'garbage';

export interface ReceivedOutcome {
  operation: string;
  sourcedId: string;
  score: string | null;
  messageId: string;
  bodyHashOk: boolean;
  signatureOk: boolean;
  consumerKey: string;
  contentType: string | undefined;
}

export interface FakeOutcomeService {
  url: string;
  server: LocalHttpServer;
  received: ReceivedOutcome[];
  /** Answers to give, in order; then `success`. */
  answers: OutcomeAnswer[];
  /** The gradebook: sourcedId → score text. */
  gradebook: Map<string, string>;
  close(): Promise<void>;
}

const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1] ?? null;

function parseAuthorization(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of (header ?? '').replace(/^OAuth\s+/i, '').matchAll(/([\w]+)="([^"]*)"/g))
    out.set(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
  return out;
}

/** A consumer's Basic Outcomes endpoint, checking the tool's oauth_body_hash and signature with `secret()`. */
export async function startOutcomeService(secret: () => string, path = '/grade?course=1'): Promise<FakeOutcomeService> {
  const received: ReceivedOutcome[] = [];
  const answers: OutcomeAnswer[] = [];
  const gradebook = new Map<string, string>();
  let origin = '';
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const auth = parseAuthorization(req.headers.authorization);
      const expectedHash = createHash('sha1').update(body).digest('base64');
      const params: [string, string][] = [...auth].filter(([k]) => k !== 'realm');
      const expected = Buffer.from(hmac(baseString('POST', `${origin}${req.url}`, params), secret()));
      const given = Buffer.from(auth.get('oauth_signature') ?? '');
      const xml = body.toString('utf8');
      const operation = /<(\w+)Request>/.exec(xml.replace(/<imsx_POXEnvelopeRequest[^>]*>/, ''))?.[1] ?? '';
      const record: ReceivedOutcome = {
        operation: operation.replace(/^imsx_POX.*/, ''),
        sourcedId: tag(xml, 'sourcedId') ?? '',
        score: tag(xml, 'textString'),
        messageId: tag(xml, 'imsx_messageIdentifier') ?? '',
        bodyHashOk: auth.get('oauth_body_hash') === expectedHash,
        signatureOk: expected.length === given.length && timingSafeEqual(expected, given),
        consumerKey: auth.get('oauth_consumer_key') ?? '',
        contentType: req.headers['content-type'],
      };
      received.push(record);
      const answer = answers.shift() ?? 'success';
      if (answer === 'http500') {
        res.writeHead(500).end('down');
        return;
      }
      if (answer === 'garbage') {
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>maintenance</html>');
        return;
      }
      const ok = answer === 'success' && record.bodyHashOk && record.signatureOk;
      let bodyXml = `<${record.operation}Response/>`;
      if (ok && record.operation === 'replaceResult') gradebook.set(record.sourcedId, record.score ?? '');
      if (ok && record.operation === 'deleteResult') gradebook.delete(record.sourcedId);
      if (ok && record.operation === 'readResult')
        bodyXml = `<readResultResponse><result><resultScore><language>en</language><textString>${gradebook.get(record.sourcedId) ?? ''}</textString></resultScore></result></readResultResponse>`;
      const code = ok ? 'success' : answer === 'unsupported' ? 'unsupported' : 'failure';
      res.writeHead(200, { 'Content-Type': 'application/xml' }).end(
        `<?xml version="1.0" encoding="UTF-8"?>
<imsx_POXEnvelopeResponse xmlns="http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0">
  <imsx_POXHeader><imsx_POXResponseHeaderInfo><imsx_version>V1.0</imsx_version>
    <imsx_messageIdentifier>${randomBytes(6).toString('hex')}</imsx_messageIdentifier>
    <imsx_statusInfo><imsx_codeMajor>${code}</imsx_codeMajor><imsx_severity>status</imsx_severity>
      <imsx_description>${ok ? 'Score recorded' : 'Refused: check signature or sourcedId'}</imsx_description>
      <imsx_messageRefIdentifier>${record.messageId}</imsx_messageRefIdentifier>
      <imsx_operationRefIdentifier>${record.operation}</imsx_operationRefIdentifier>
    </imsx_statusInfo></imsx_POXResponseHeaderInfo></imsx_POXHeader>
  <imsx_POXBody>${bodyXml}</imsx_POXBody>
</imsx_POXEnvelopeResponse>`,
      );
    });
  };
  const server = await startLocalHttpServer(handler);
  origin = server.origin;
  return { url: `${server.origin}${path}`, server, received, answers, gradebook, close: () => server.close() };
}
