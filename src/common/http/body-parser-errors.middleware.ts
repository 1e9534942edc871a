import type { NextFunction, Request, Response } from 'express';
import { CommonError } from '../errors/common.errors';

/**
 * body-parser reports problems as errors with a `type`; they become our error codes here, before
 * Nest's generic mapping loses the distinction between bad JSON and an oversized body.
 */
export function bodyParserErrors(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
  const e = err as { type?: string; limit?: number };
  switch (e?.type) {
    case 'entity.parse.failed':
      return next(new CommonError('invalid_json', 'The request body is not valid JSON.'));
    case 'entity.too.large':
      return next(new CommonError('payload_too_large', 'The request body is too large.', { limit_bytes: e.limit }));
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return next(new CommonError('unsupported_media_type', 'The request body encoding is not supported.'));
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'parameters.too.many':
      return next(new CommonError('bad_request', 'The request body could not be read.'));
    default:
      return next(err);
  }
}
