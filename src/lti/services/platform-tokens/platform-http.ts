import { platformUrlProblem } from '../../lti-urls';

/** What went wrong calling a platform service: the platform's HTTP status and answer, or a network error (status null). */
export class PlatformCallError extends Error {
  constructor(
    readonly status: number | null,
    readonly answer: string,
    readonly url: string,
  ) {
    super(status === null ? `platform unreachable: ${answer}` : `platform answered ${status}: ${answer.slice(0, 200)}`);
    this.name = 'PlatformCallError';
  }

  /** Network errors, 5xx and 429 may go away: worth a retry with backoff. */
  get retryable(): boolean {
    return this.status === null || this.status === 429 || this.status >= 500;
  }
}

/** Most of a platform's answer kept (error messages, stored score answers). */
export const ANSWER_CHARS = 2000;

/** A URL a platform handed us (claims, OpenID configuration) that we will call: https, or http on loopback / with the setting. */
export function checkServiceUrl(url: unknown, allowInsecure: boolean, what: string): string {
  if (typeof url !== 'string' || !url) throw new PlatformCallError(null, `${what} is missing`, String(url));
  const problem = platformUrlProblem(url, allowInsecure);
  if (problem) throw new PlatformCallError(null, `${what} ${problem}`, url);
  return url;
}

/** One HTTP call to a platform, with a timeout; a network failure or timeout becomes a PlatformCallError without status. */
export async function platformFetch(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  const signal = init.signal
    ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)])
    : AbortSignal.timeout(timeoutMs);
  try {
    return await fetch(url, { ...init, redirect: 'error', signal });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    throw new PlatformCallError(null, err.cause?.code ?? err.cause?.message ?? err.name ?? 'network error', url);
  }
}

/** The answer's text, at most ANSWER_CHARS of it. */
export async function answerText(res: Response): Promise<string> {
  try {
    return (await res.text()).slice(0, ANSWER_CHARS);
  } catch {
    return '';
  }
}
