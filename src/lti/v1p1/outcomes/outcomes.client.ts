import { Injectable } from '@nestjs/common';
import { randomSecret } from '../../../common/crypto/secrets';
import { authorizationHeader, bodyHash, signRequest } from '../oauth1';
import { OutcomeRequestKind, OutcomeResponse, outcomeRequest, parseOutcomeResponse } from './pox';

const TIMEOUT_MS = 15_000;
const MAX_ANSWER_BYTES = 64 * 1024;

/** Why a delivery did not succeed, and whether trying again later may help. */
export class OutcomeDeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'OutcomeDeliveryError';
  }
}

export interface OutcomeTarget {
  url: string;
  consumerKey: string;
  consumerSecret: string;
  sourcedId: string;
}

/**
 * Sends Basic Outcomes requests: the POX body, `Content-Type: application/xml`, and an OAuth 1.0a
 * Authorization header (HMAC-SHA1, consumer key and secret) that signs `oauth_body_hash`, the base64
 * SHA-1 of the exact body bytes. A 5xx, 408, 429, timeout or network error may pass (retryable); any
 * other refusal, or an imsx_codeMajor of failure or unsupported, will not.
 */
@Injectable()
export class OutcomesClient {
  async send(
    target: OutcomeTarget,
    kind: OutcomeRequestKind,
    score?: number,
    signal?: AbortSignal,
  ): Promise<OutcomeResponse> {
    const request = outcomeRequest(kind, target.sourcedId, score);
    const body = Buffer.from(request.xml, 'utf8');
    const oauth = signRequest({
      method: 'POST',
      url: target.url,
      consumerKey: target.consumerKey,
      consumerSecret: target.consumerSecret,
      params: [['oauth_body_hash', bodyHash(body)]],
      nonce: randomSecret(16),
      timestamp: Math.floor(Date.now() / 1000),
    });
    let res: Response;
    try {
      res = await fetch(target.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/xml',
          Authorization: authorizationHeader([['oauth_body_hash', bodyHash(body)], ...oauth]),
        },
        body,
        redirect: 'error',
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      throw new OutcomeDeliveryError(`The outcome service could not be reached: ${(e as Error).message}`, true);
    }
    const text = await readBounded(res);
    if (!res.ok) {
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      throw new OutcomeDeliveryError(`The outcome service answered HTTP ${res.status}.`, retryable);
    }
    const answer = text === null ? null : parseOutcomeResponse(text);
    if (!answer) throw new OutcomeDeliveryError('The outcome service answered something other than POX XML.', true);
    if (answer.codeMajor === 'failure' || answer.codeMajor === 'unsupported') {
      const what = answer.description ? `: ${answer.description.slice(0, 500)}` : '';
      throw new OutcomeDeliveryError(`The outcome service refused ${kind} (${answer.codeMajor})${what}`, false);
    }
    return answer;
  }
}

/** The answer's text, or null past MAX_ANSWER_BYTES (read no further). */
async function readBounded(res: Response): Promise<string | null> {
  if (!res.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      return null;
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks).toString('utf8');
}
