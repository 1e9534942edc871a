import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { AppError, isSelfRendering } from '../errors/app-error';
import { CODE_BY_STATUS } from '../errors/common.errors';
import { allowedMethods } from '../http/allowed-methods';
import {
  isDatabaseUnavailable,
  isForeignKeyViolation,
  isUniqueViolation,
  isUnstorableText,
} from '../errors/database-errors';

interface ErrorBody {
  error: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Nest's answer when no route matched the method and path. */
const NO_ROUTE = /^Cannot [A-Z-]+ \//;

function fromHttpException(e: HttpException): [number, ErrorBody] {
  const status = e.getStatus();
  const response = e.getResponse();
  const raw = typeof response === 'string' ? response : (response as { message?: unknown }).message;
  const message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : e.message;
  return [status, { error: CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'bad_request'), message }];
}

function isNoRoute(e: unknown): e is HttpException {
  return e instanceof HttpException && e.getStatus() === 404 && NO_ROUTE.test(e.message);
}

/** Renders every error as `{ error, message, details }`; never leaks a stack trace. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(private readonly logger: PinoLogger) {
    this.logger.setContext('http');
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request & { id?: string }>();
    if (res.headersSent) {
      res.end();
      return;
    }

    if (isSelfRendering(exception)) {
      const { body, headers } = exception.render();
      for (const [k, v] of Object.entries(headers ?? {})) res.setHeader(k, v);
      res.status(exception.status).json(body);
      return;
    }

    let status: number;
    let body: ErrorBody;
    if (isNoRoute(exception)) {
      // A path served for other methods: 405 with Allow (RFC 9110 §15.5.6), or for OPTIONS 204 with Allow.
      const served = allowedMethods(req);
      if (served.length > 0) {
        const allowed = [...served, 'OPTIONS'].sort();
        res.setHeader('Allow', allowed.join(', '));
        if (req.method === 'OPTIONS') {
          res.status(HttpStatus.NO_CONTENT).end();
          return;
        }
        status = HttpStatus.METHOD_NOT_ALLOWED;
        body = {
          error: 'method_not_allowed',
          message: `${req.path} does not accept ${req.method}.`,
          details: { allowed },
        };
      } else {
        status = HttpStatus.NOT_FOUND;
        body = { error: 'not_found', message: 'No such route.' };
      }
    } else if (exception instanceof AppError) {
      status = exception.status;
      body = { error: exception.code, message: exception.message, details: exception.details };
      const retryAfter = exception.details?.retry_after_seconds;
      if (status === HttpStatus.TOO_MANY_REQUESTS && typeof retryAfter === 'number')
        res.setHeader('Retry-After', String(retryAfter));
    } else if (exception instanceof HttpException) {
      [status, body] = fromHttpException(exception);
    } else if (isDatabaseUnavailable(exception)) {
      status = HttpStatus.SERVICE_UNAVAILABLE;
      body = { error: 'database_unavailable', message: 'The database is not reachable; try again shortly.' };
      res.setHeader('Retry-After', '5');
      this.logger.warn({ err: exception }, 'database unavailable');
    } else if (isUniqueViolation(exception)) {
      status = HttpStatus.CONFLICT;
      body = { error: 'conflict', message: 'An object with the same unique values already exists.' };
    } else if (isUnstorableText(exception)) {
      status = HttpStatus.BAD_REQUEST;
      body = {
        error: 'invalid_input',
        message: 'A value contains a character that cannot be stored (such as NUL) or is too long.',
      };
    } else if (isForeignKeyViolation(exception)) {
      status = HttpStatus.CONFLICT;
      body = { error: 'conflict', message: 'The object is still referenced by, or refers to, other objects.' };
    } else {
      status = HttpStatus.INTERNAL_SERVER_ERROR;
      body = { error: 'internal_error', message: 'Internal error.', details: { request_id: req.id } };
      this.logger.error({ err: exception }, 'unhandled error');
    }
    if (status >= 500 && body.error !== 'internal_error' && body.error !== 'database_unavailable') {
      this.logger.warn({ code: body.error }, body.message);
    }
    if (body.details === undefined) delete body.details;
    res.status(status).json(body);
  }
}
