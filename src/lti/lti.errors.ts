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
  no_grade_service: HttpStatus.UNPROCESSABLE_ENTITY,
  no_roster_service: HttpStatus.UNPROCESSABLE_ENTITY,
  invalid_score: HttpStatus.BAD_REQUEST,
  user_not_on_platform: HttpStatus.UNPROCESSABLE_ENTITY,
  platform_error: HttpStatus.BAD_GATEWAY,
  not_deep_linking: HttpStatus.BAD_REQUEST,
  deep_linking_expired: HttpStatus.BAD_REQUEST,
  deep_linking_answered: HttpStatus.CONFLICT,
  content_not_accepted: HttpStatus.UNPROCESSABLE_ENTITY,
  registration_link_invalid: HttpStatus.BAD_REQUEST,
  already_approved: HttpStatus.CONFLICT,
  duplicate_consumer: HttpStatus.CONFLICT,
  consumer_deleted: HttpStatus.CONFLICT,
});
