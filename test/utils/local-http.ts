import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTcpServer, Server as TcpServer } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export interface LocalHttpServer {
  port: number;
  /** `http://<host>:<port>` */
  origin: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A plain HTTP server on a loopback address (127.0.0.1 unless `host` names another of 127.0.0.0/8,
 * which a browser treats as another site) and a free port (or `port`); `close()` also cuts connections
 * still open.
 */
export async function startLocalHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  { host = '127.0.0.1', port = 0 }: { host?: string; port?: number } = {},
): Promise<LocalHttpServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound } = server.address() as { port: number };
  return {
    port: bound,
    origin: `http://${host}:${bound}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Keeps a TCP port busy on 127.0.0.1 until `close()`. */
export async function occupyPort(): Promise<{ port: number; close(): Promise<void> }> {
  const server: TcpServer = createTcpServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A port on 127.0.0.1 that nothing listens on right now (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const busy = await occupyPort();
  await busy.close();
  return busy.port;
}
