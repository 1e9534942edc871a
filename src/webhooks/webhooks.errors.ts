import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../common/errors/app-error';

/** Error codes of the webhooks module. */
export const WebhookError = defineErrors('WebhookError', {
  invalid_url: HttpStatus.BAD_REQUEST,
  unknown_event_type: HttpStatus.BAD_REQUEST,
  delivery_pending: HttpStatus.CONFLICT,
});
