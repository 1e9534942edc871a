import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../common/errors/app-error';

/** Error codes of the LTI module's REST routes (the tool's browser endpoints answer HTML pages, see launch/). */
export const LtiError = defineErrors('LtiError', {
  insecure_platform_url: HttpStatus.BAD_REQUEST,
  invalid_role_mappings: HttpStatus.BAD_REQUEST,
  duplicate_platform: HttpStatus.CONFLICT,
  launch_expired: HttpStatus.BAD_REQUEST,
  launch_already_exchanged: HttpStatus.BAD_REQUEST,
  user_deactivated: HttpStatus.BAD_REQUEST,
  duplicate_consumer: HttpStatus.CONFLICT,
  consumer_deleted: HttpStatus.CONFLICT,
});
