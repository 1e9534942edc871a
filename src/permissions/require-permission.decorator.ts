import { SetMetadata } from '@nestjs/common';
import type { ALL, Action, SubjectType } from './subjects';

/** A subject type, or CASL's `all` (staff-only routes: `manage all`). */
export type RouteSubject = SubjectType | typeof ALL;

export const REQUIRED_PERMISSION = 'campus-access:required-permission';

export interface RequiredPermission {
  action: Action;
  subject: RouteSubject;
}

/**
 * The permission a route needs, checked by the global authorization guard. Object-level checks
 * (this project, that job) happen in the service with the request's ability (`requireAccess`).
 */
export const RequirePermission = (action: Action, subject: RouteSubject): MethodDecorator =>
  SetMetadata(REQUIRED_PERMISSION, { action, subject } satisfies RequiredPermission);
