import type { NextFunction, Request, Response } from 'express';
import type { AppError } from '../errors/app-error';
import { CommonError } from '../errors/common.errors';
import { MAX_BODY_DEPTH } from './parsed-body.middleware';

/**
 * What a body-parser error means, as one of our errors; undefined for anything else. body-parser names
 * most of its errors with a `type`; a body it cannot inflate (a broken gzip stream) comes as a bare
 * client error with `expose` set, which must not fall through to a 500.
 */
export function bodyParserError(err: unknown): AppError | undefined {
  const e = err as { type?: string; limit?: number; status?: number; expose?: boolean } | undefined;
  switch (e?.type) {
    case 'entity.parse.failed':
      return new CommonError('invalid_json', 'The request body is not valid JSON.');
    case 'entity.too.deep':
      return new CommonError('invalid_json', (err as Error).message, { max_depth: MAX_BODY_DEPTH });
    case 'entity.not.unicode':
      return new CommonError('invalid_input', (err as Error).message);
    case 'entity.too.large':
      return new CommonError('payload_too_large', 'The request body is too large.', { limit_bytes: e.limit });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new CommonError('unsupported_media_type', 'The request body encoding is not supported.');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'stream.not.readable':
    case 'parameters.too.many':
      return new CommonError('bad_request', 'The request body could not be read.');
  }
  if (e?.expose === true && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new CommonError('bad_request', 'The request body could not be read.');
  }
  return undefined;
}

/** body-parser's errors become our error codes here, before Nest's generic mapping loses the distinction between bad JSON and an oversized body. */
export function bodyParserErrors(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
  next(bodyParserError(err) ?? err);
}
