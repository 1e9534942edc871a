import { setTimeout as sleep } from 'node:timers/promises';
import { CourseAccountBackendError } from './course-account-backend';

const EXCERPT_CHARS = 500;

export interface HttpCallerOptions {
  /** Per attempt, including reading the body. */
  timeoutMs: number;
  /** Further attempts after a network error, a timeout or a 5xx answer (never after a 4xx). */
  retries: number;
  /** Delay before the first further attempt; doubles with each one (with up to 20 % jitter). */
  retryBackoffMs: number;
}

export interface HttpAnswer {
  status: number;
  /** The parsed body when it is JSON. */
  json: unknown;
  /** The start of the body, for error records. */
  excerpt: string;
  attempts: number;
}

/**
 * One HTTP exchange with timeouts and retries. Answers every HTTP status (callers decide what a 4xx
 * means); throws CourseAccountBackendError when no answer came, or only 5xx answers, after the retries.
 */
export class HttpCaller {
  constructor(private readonly options: HttpCallerOptions) {}

  async call(
    stage: 'token' | 'request',
    method: string,
    url: string,
    init: { headers: Record<string, string>; body?: string; signal?: AbortSignal },
  ): Promise<HttpAnswer> {
    const { retries, timeoutMs } = this.options;
    for (let attempt = 1; ; attempt++) {
      init.signal?.throwIfAborted();
      const signals = [AbortSignal.timeout(timeoutMs), ...(init.signal ? [init.signal] : [])];
      let answer: HttpAnswer | undefined;
      let failure: string;
      try {
        const res = await fetch(url, {
          method,
          headers: init.headers,
          body: init.body,
          signal: AbortSignal.any(signals),
          redirect: 'error',
        });
        const text = await res.text();
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        answer = { status: res.status, json, excerpt: text.slice(0, EXCERPT_CHARS), attempts: attempt };
        failure = `HTTP ${res.status}`;
      } catch (e) {
        // The caller's own abort (a canceled job) is not a backend failure: let it through.
        if (init.signal?.aborted) throw init.signal.reason;
        failure = describeNetworkError(e, timeoutMs);
      }
      if (answer && answer.status < 500) return answer;
      if (attempt > retries) {
        if (answer) return answer;
        throw new CourseAccountBackendError(`${method} ${redact(url)} failed: ${failure}`, {
          stage,
          method,
          url: redact(url),
          attempts: attempt,
          cause: failure,
        });
      }
      await sleep(this.backoff(attempt), undefined, { signal: init.signal });
    }
  }

  private backoff(attempt: number): number {
    const base = this.options.retryBackoffMs * 2 ** (attempt - 1);
    return Math.round(base * (1 + Math.random() * 0.2));
  }
}

function describeNetworkError(e: unknown, timeoutMs: number): string {
  const error = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (error?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = error?.cause?.code ?? error?.cause?.message;
  return cause ? `${error.message ?? 'network error'} (${cause})` : (error?.message ?? String(e));
}

/** URLs go into error records: never with credentials or a query string. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
