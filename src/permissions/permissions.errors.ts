import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../common/errors/app-error';

/** Error codes of the permissions module; 404 and 403 on objects are CommonError's `not_found` and `forbidden`. */
export const PermissionsError = defineErrors('PermissionsError', {
  unknown_role: HttpStatus.BAD_REQUEST,
  role_scope_mismatch: HttpStatus.BAD_REQUEST,
  unknown_scope: HttpStatus.BAD_REQUEST,
  unknown_principal: HttpStatus.BAD_REQUEST,
  principal_outside_organization: HttpStatus.BAD_REQUEST,
  invalid_permission: HttpStatus.BAD_REQUEST,
  unknown_object_type: HttpStatus.BAD_REQUEST,
  role_escalation: HttpStatus.FORBIDDEN,
  already_member: HttpStatus.CONFLICT,
  scope_resolution_unavailable: HttpStatus.SERVICE_UNAVAILABLE,
});
