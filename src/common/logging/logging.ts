import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Query parameters whose values never reach the logs: credentials, and the one-time or signed values that
 * act as one in a URL (an LTI launch id, a signed result URL's signature, a dynamic registration link or token).
 */
const SECRET_QUERY_KEYS =
  /^(code|token|access_token|refresh_token|id_token|client_secret|password|state|secret|key|oauth_signature|launch_id|signature|registration_token|link)$/i;

/** Paths pino redacts wherever they appear in a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'password',
  'client_secret',
  'code',
  'access_token',
  'refresh_token',
  'token',
  '*.password',
  '*.client_secret',
  '*.code',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.token',
  '*.secret',
  '*.authorization',
];

export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

export function redactQuery(url: string | undefined): string | undefined {
  if (!url || !url.includes('?')) return url;
  const [path, query] = url.split('?', 2);
  const params = new URLSearchParams(query);
  for (const key of [...params.keys()]) if (SECRET_QUERY_KEYS.test(key)) params.set(key, '[Redacted]');
  return `${path}?${params.toString()}`;
}

export function loggerParams(level: string, stream?: DestinationStream): Params {
  return {
    pinoHttp: {
      level,
      genReqId: requestId,
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      // Bound once on the base logger rather than per request (customProps costs a child logger per request).
      base: { service: 'campus-access', pid: process.pid, hostname: hostname() },
      // Our serializers read the raw request and response; the std wrappers would build a full copy first.
      wrapSerializers: false,
      autoLogging: { ignore: (req) => req.url === '/health/live' || req.url === '/metrics' },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      serializers: {
        req: (req: {
          id: string;
          method: string;
          url: string;
          originalUrl?: string;
          headers: Record<string, unknown>;
        }) => ({
          id: req.id,
          method: req.method,
          url: redactQuery(req.originalUrl ?? req.url),
          headers: { 'user-agent': req.headers['user-agent'], 'x-forwarded-for': req.headers['x-forwarded-for'] },
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      ...(stream ? { stream } : {}),
    },
    // The request id travels with every log line written while the request is served.
    forRoutes: ['*path'],
  };
}
