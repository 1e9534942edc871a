import { randomUUID } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';

/**
 * LTI 1.1 Basic Outcomes messages (IMS LTI 1.1 §6, "POX" — plain old XML): the requests we send and
 * the answers we read. Requests are written from a fixed template with every value escaped; answers
 * are parsed with fast-xml-parser, namespaces dropped, no DOCTYPE accepted.
 */

export type OutcomeRequestKind = 'replaceResult' | 'readResult' | 'deleteResult';

const NS = 'http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0';

const escapeXml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/** A score as the decimal text the spec asks for (en, 0.0–1.0, never an exponent). */
export function scoreText(score: number): string {
  if (!Number.isFinite(score) || score < 0 || score > 1) throw new RangeError('score must be within 0.0 and 1.0');
  const fixed = score.toFixed(8).replace(/0+$/, '');
  return fixed.endsWith('.') ? `${fixed}0` : fixed;
}

export interface OutcomeRequest {
  kind: OutcomeRequestKind;
  messageId: string;
  xml: string;
}

export function outcomeRequest(kind: OutcomeRequestKind, sourcedId: string, score?: number): OutcomeRequest {
  const messageId = randomUUID();
  const result =
    kind === 'replaceResult'
      ? `<result><resultScore><language>en</language><textString>${scoreText(score!)}</textString></resultScore></result>`
      : '';
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<imsx_POXEnvelopeRequest xmlns="${NS}">` +
    `<imsx_POXHeader><imsx_POXRequestHeaderInfo><imsx_version>V1.0</imsx_version>` +
    `<imsx_messageIdentifier>${messageId}</imsx_messageIdentifier></imsx_POXRequestHeaderInfo></imsx_POXHeader>` +
    `<imsx_POXBody><${kind}Request><resultRecord><sourcedGUID><sourcedId>${escapeXml(sourcedId)}</sourcedId></sourcedGUID>` +
    `${result}</resultRecord></${kind}Request></imsx_POXBody></imsx_POXEnvelopeRequest>`;
  return { kind, messageId, xml };
}

export type CodeMajor = 'success' | 'processing' | 'failure' | 'unsupported';

export interface OutcomeResponse {
  codeMajor: CodeMajor;
  severity: string | null;
  description: string | null;
  messageRefIdentifier: string | null;
  operationRefIdentifier: string | null;
  /** readResult: the score the consumer holds (null when none). */
  score: number | null;
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
});

type Node = Record<string, unknown>;
const child = (node: unknown, name: string): unknown =>
  typeof node === 'object' && node !== null && !Array.isArray(node) ? (node as Node)[name] : undefined;
const textOf = (node: unknown): string | null =>
  typeof node === 'string' ? node : typeof node === 'number' ? String(node) : null;

/** Reads an imsx_POXEnvelopeResponse; null when the text is not one (or carries a DOCTYPE). */
export function parseOutcomeResponse(xml: string): OutcomeResponse | null {
  if (/<!DOCTYPE/i.test(xml)) return null;
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch {
    return null;
  }
  const envelope = child(doc, 'imsx_POXEnvelopeResponse');
  const status = child(child(child(envelope, 'imsx_POXHeader'), 'imsx_POXResponseHeaderInfo'), 'imsx_statusInfo');
  const code = textOf(child(status, 'imsx_codeMajor'))?.toLowerCase();
  if (code !== 'success' && code !== 'processing' && code !== 'failure' && code !== 'unsupported') return null;
  const body = child(envelope, 'imsx_POXBody');
  const scoreString = textOf(
    child(child(child(child(body, 'readResultResponse'), 'result'), 'resultScore'), 'textString'),
  );
  const score = scoreString !== null && scoreString.trim() !== '' ? Number(scoreString) : null;
  return {
    codeMajor: code,
    severity: textOf(child(status, 'imsx_severity')),
    description: textOf(child(status, 'imsx_description')),
    messageRefIdentifier: textOf(child(status, 'imsx_messageRefIdentifier')),
    operationRefIdentifier: textOf(child(status, 'imsx_operationRefIdentifier')),
    score: score !== null && Number.isFinite(score) ? score : null,
  };
}
