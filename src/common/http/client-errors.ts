import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** What Node's HTTP parser refuses before any route runs, as our error codes. */
function answerFor(code: string | undefined): { status: number; error: string; message: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, error: 'headers_too_large', message: 'The request headers are too large.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, error: 'request_timeout', message: 'The request took too long to arrive.' };
    default:
      return { status: 400, error: 'bad_request', message: 'The request is not valid HTTP.' };
  }
}

/**
 * Requests the HTTP parser refuses (headers over Node's 16 KB limit, malformed request lines, requests
 * that arrive too slowly) get the usual JSON error body instead of Node's bare status line, then the
 * connection is closed. A connection already answering, or already gone, is just closed.
 */
export function answerClientErrors(server: Server): void {
  server.on(
    'clientError',
    (err: NodeJS.ErrnoException, socket: Duplex & { _httpMessage?: { headersSent?: boolean } }) => {
      if (err.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
        socket.destroy();
        return;
      }
      const { status, error, message } = answerFor(err.code);
      const body = JSON.stringify({ error, message });
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  );
}

/** How often Node looks for requests past their time; its default (30 s) would add up to that to every timeout. */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/**
 * Bounds how long a client may take to send a request (slowloris): the headers within `headersMs`,
 * the whole request within `requestMs`. A request past its time gets 408 `request_timeout` through
 * answerClientErrors() and its connection is closed.
 */
export function limitRequestTime(server: Server, { headersMs, requestMs }: { headersMs: number; requestMs: number }) {
  server.headersTimeout = headersMs;
  server.requestTimeout = requestMs;
  // Read by Node when the server starts listening.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(
    TIMEOUT_CHECK_INTERVAL_MS,
    headersMs,
  );
}
