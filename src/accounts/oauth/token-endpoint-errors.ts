import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { AppError } from '../../common/errors/app-error';
import { isDatabaseUnavailable, isUnstorableText } from '../../common/errors/database-errors';
import { bodyParserError } from '../../common/http/body-parser-errors.middleware';
import { OAuthError } from './oauth-error';

/**
 * Where the OAuth endpoints answer: the token endpoint (and its `/token` alias), revocation (RFC 7009) and
 * introspection (RFC 7662). All keep RFC 6749's error shape for every error.
 */
export const OAUTH_ENDPOINT_PATHS = ['/oauth/token', '/token', '/oauth/revoke', '/oauth/introspect'];

/** Seconds a client should wait before retrying while the database is unreachable (as elsewhere in the API). */
const RETRY_AFTER_SECONDS = '5';

/** What `assertDecodableForm` throws; body-parser passes it on with its status and type. */
const UNDECODABLE_FORM = 'oauth.form.undecodable';

/**
 * A `verify` hook for the form parser of the OAuth endpoints: every name and value must percent-decode to
 * UTF-8 (RFC 6749 Appendix B). The parser itself keeps an undecodable escape such as `%zz` as it is, which
 * would make `scope=%zz` ask for the scope `%zz`; here it is an `invalid_request`.
 */
export function assertDecodableForm(_req: unknown, _res: unknown, body: Buffer): void {
  const text = body.toString('latin1');
  if (!text.includes('%')) return;
  for (const part of text.split('&')) {
    try {
      decodeURIComponent(part.replace(/\+/g, ' '));
    } catch {
      throw Object.assign(new Error('The form body does not decode.'), { status: 400, type: UNDECODABLE_FORM });
    }
  }
}

/**
 * body-parser's errors at the token endpoint (malformed, oversized or undecodable bodies) as RFC 6749 §5.2
 * errors: 400 `invalid_request`, but 413 for a body over BODY_LIMIT_BYTES. They happen before any route
 * runs, so a route's filter never sees them; mounted on OAUTH_ENDPOINT_PATHS after the body parsers.
 */
export function tokenEndpointBodyErrors(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
  if ((err as { type?: string } | undefined)?.type === UNDECODABLE_FORM)
    return next(new OAuthError('invalid_request', 'The form body is not valid percent-encoded UTF-8.'));
  const parsed = bodyParserError(err);
  if (!parsed) return next(err);
  next(new OAuthError('invalid_request', parsed.message, parsed.status === 413 ? 413 : 400));
}

/**
 * Renders whatever the token routes throw as `{ error, error_description }` with `Cache-Control: no-store`:
 * OAuth errors as they are, a database outage as 503 `temporarily_unavailable` with `Retry-After`, other
 * client errors as `invalid_request`, and anything unexpected as 500 `server_error` (logged, with the
 * request id in the description, never internals). OAuth clients read `error`; our usual shape would
 * leave them with nothing to read.
 */
@Injectable()
@Catch()
export class TokenEndpointExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: PinoLogger) {
    this.logger.setContext('oauth');
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request & { id?: string }>();
    if (res.headersSent) {
      res.end();
      return;
    }
    const error = this.asOAuthError(exception, req.id);
    const { body, headers } = error.render();
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.status(error.status).json(body);
  }

  private asOAuthError(e: unknown, requestId: string | undefined): OAuthError {
    if (e instanceof OAuthError) return e;
    if (isDatabaseUnavailable(e)) {
      this.logger.warn({ err: e }, 'database unavailable');
      return new OAuthError(
        'temporarily_unavailable',
        'The service is temporarily unavailable; try again shortly.',
        503,
        { 'Retry-After': RETRY_AFTER_SECONDS },
      );
    }
    if (isUnstorableText(e))
      return new OAuthError(
        'invalid_request',
        'A parameter contains a character that cannot be stored (such as NUL) or is too long.',
      );
    const status = e instanceof AppError ? e.status : e instanceof HttpException ? e.getStatus() : undefined;
    if (status !== undefined && status >= 400 && status < 500)
      return new OAuthError('invalid_request', (e as Error).message, status);
    this.logger.error({ err: e }, 'unhandled error');
    return new OAuthError('server_error', `Internal error${requestId ? ` (request ${requestId})` : ''}.`, 500);
  }
}
