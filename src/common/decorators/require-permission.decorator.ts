import { SetMetadata } from '@nestjs/common';

export const REQUIRED_PERMISSION = 'campus-access:required-permission';

export interface RequiredPermission {
  action: string;
  subject: string;
}

/**
 * The permission a route needs, checked by the global authorization guard. Object-level checks
 * (this project, that job) happen in the service with the request's ability.
 */
export const RequirePermission = (action: string, subject: string): MethodDecorator =>
  SetMetadata(REQUIRED_PERMISSION, { action, subject } satisfies RequiredPermission);
