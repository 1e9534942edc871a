import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';

export interface ReceivedHook {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The parsed body when the signature verified with the receiver's secret, else null. */
  verified: unknown;
  at: number;
}

/**
 * A local webhook receiver that checks every message with the `standardwebhooks` package, as a site
 * agent would. `behave(path, n)` says what to answer the n-th request (from 1) to a path: a status
 * with headers, or 'hang' (never answer).
 */
export class WebhookReceiver {
  readonly received: ReceivedHook[] = [];
  secrets = new Map<string, string>();
  behave: (path: string, n: number) => { status: number; headers?: Record<string, string>; body?: string } | 'hang' =
    () => ({ status: 200, body: 'ok' });
  private server?: Server;
  private readonly counts = new Map<string, number>();
  private readonly hanging = new Set<ServerResponse>();
  origin = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.origin = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Messages received on a path, in arrival order. */
  on(path: string): ReceivedHook[] {
    return this.received.filter((r) => r.path === path);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    let verified: unknown = null;
    const secret = this.secrets.get(path);
    if (secret) {
      try {
        verified = new Webhook(secret).verify(body, req.headers as Record<string, string>);
      } catch {
        verified = null;
      }
    }
    this.received.push({ path, headers: req.headers, body, verified, at: Date.now() });
    const n = (this.counts.get(path) ?? 0) + 1;
    this.counts.set(path, n);
    const answer = this.behave(path, n);
    if (answer === 'hang') {
      this.hanging.add(res);
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'text/plain', ...(answer.headers ?? {}) });
    res.end(answer.body ?? '');
  }
}
