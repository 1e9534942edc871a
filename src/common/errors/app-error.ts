import { HttpStatus } from '@nestjs/common';

/**
 * The one error type routes throw. The global filter renders it as
 * `{ "error": code, "message": message, "details": details }` with `status`.
 */
export class AppError extends Error {
  constructor(
    readonly status: HttpStatus,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Declares a module's error codes with their HTTP statuses and returns the error class for them.
 * A code cannot be thrown without a status: the code parameter is typed by the map's keys.
 *
 *   export const CourseAccountError = defineErrors('CourseAccountError', { invalid_transition: HttpStatus.CONFLICT });
 *   throw new CourseAccountError('invalid_transition', 'Account is CLOSED', { id });
 */
export function defineErrors<const M extends Record<string, HttpStatus>>(name: string, statuses: M) {
  const ModuleError = class extends AppError {
    constructor(code: keyof M & string, message: string, details?: Record<string, unknown>) {
      super(statuses[code], code, message, details);
    }
  };
  Object.defineProperty(ModuleError, 'name', { value: name });
  return ModuleError;
}

/** An error that renders its own body (OAuth2 and LTI endpoints keep their standard error shapes). */
export interface SelfRenderingError {
  readonly status: number;
  render(): { body: unknown; headers?: Record<string, string> };
}

export function isSelfRendering(e: unknown): e is SelfRenderingError {
  return typeof e === 'object' && e !== null && typeof (e as SelfRenderingError).render === 'function';
}
