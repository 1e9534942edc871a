import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, LookupFunction } from 'node:net';

const EXCERPT_CHARS = 1000;

/** Addresses a webhook must not reach unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES: loopback, private, link-local and other special ranges. */
const BLOCKED = (() => {
  const list = new BlockList();
  for (const [net, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const)
    list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of [
    ['::', 128],
    ['::1', 128],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['64:ff9b::', 96],
  ] as const)
    list.addSubnet(net, prefix, 'ipv6');
  return list;
})();

/** Whether a resolved address is loopback, private, link-local or otherwise not a public unicast address. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return BLOCKED.check(mapped[1], 'ipv4');
    return BLOCKED.check(address, 'ipv6');
  }
  return true;
}

export class RefusedAddressError extends Error {
  readonly code = 'EREFUSEDADDRESS';
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, a loopback, private or link-local address`);
    this.name = 'RefusedAddressError';
  }
}

/**
 * A DNS lookup for the HTTP agent that refuses blocked addresses: the socket connects to the address
 * checked here, so a name that resolves differently a moment later (DNS rebinding) cannot slip past.
 */
function checkingLookup(allowPrivate: boolean): LookupFunction {
  return ((hostname: string, options: object, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err);
      const refused = allowPrivate ? undefined : addresses.find((a) => isBlockedAddress(a.address));
      if (refused) return callback(new RefusedAddressError(hostname, refused.address));
      if ((options as { all?: boolean }).all) return callback(null, addresses);
      const first = addresses[0];
      return callback(null, first.address, first.family);
    });
  }) as LookupFunction;
}

export interface SafePostResult {
  /** Absent when no answer came. */
  status?: number;
  excerpt: string;
  /** Why no answer came, or why the answer does not count (a redirect). */
  error?: string;
  /** A network error or timeout (retried), as opposed to a refused address (not retried). */
  network: boolean;
  durationMs: number;
}

/**
 * POSTs `body` once: no redirects followed (a 3xx is a failed attempt), the whole exchange within
 * `timeoutMs`, the target address checked after DNS resolution (literal IPs too).
 */
export function safePost(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; allowPrivate: boolean },
): Promise<SafePostResult> {
  const started = Date.now();
  const done = (r: Omit<SafePostResult, 'durationMs'>): SafePostResult => ({ ...r, durationMs: Date.now() - started });
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return resolve(done({ excerpt: '', error: 'invalid URL', network: false }));
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !options.allowPrivate && isBlockedAddress(host)) {
      return resolve(done({ excerpt: '', error: new RefusedAddressError(host, host).message, network: false }));
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (r: Omit<SafePostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(done(r));
    };
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: checkingLookup(options.allowPrivate),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < EXCERPT_CHARS * 4) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => {
          const excerpt = Buffer.concat(chunks).toString('utf8').slice(0, EXCERPT_CHARS);
          const status = res.statusCode ?? 0;
          const redirect = status >= 300 && status < 400;
          finish({
            status,
            excerpt,
            network: false,
            ...(redirect ? { error: `redirect to ${res.headers.location ?? '(no location)'} not followed` } : {}),
          });
        });
        res.on('error', (e) => finish({ status: res.statusCode, excerpt: '', error: e.message, network: true }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    req.on('error', (e) => finish({ excerpt: '', error: e.message, network: !(e instanceof RefusedAddressError) }));
    req.end(body);
  });
}
