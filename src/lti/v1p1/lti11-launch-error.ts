/**
 * Why an LTI 1.1 launch was refused. Each reason is logged and shown on the page the browser gets
 * (400 for a request that is malformed or names something unknown, 401 for one whose proof fails),
 * never a 500 and never a launch. The table is also src/lti/v1p1/README.md's.
 */
export const LTI11_REASONS = {
  not_form_encoded: [400, 'The launch is not an application/x-www-form-urlencoded POST.'],
  invalid_parameter: [400, 'A parameter is repeated, too long or not valid text.'],
  missing_consumer_key: [400, 'The launch has no oauth_consumer_key.'],
  missing_signature: [400, 'The launch has no oauth_signature.'],
  unsupported_signature_method: [400, 'The oauth_signature_method is not HMAC-SHA1.'],
  wrong_oauth_version: [400, 'The oauth_version is not 1.0.'],
  invalid_timestamp: [400, 'The oauth_timestamp is missing or not a number of seconds.'],
  missing_nonce: [400, 'The launch has no oauth_nonce.'],
  unknown_consumer: [401, 'No consumer with this key (or instance guid) is registered.'],
  timestamp_out_of_window: [401, 'The oauth_timestamp is more than 300 seconds from now: check the LMS clock.'],
  bad_signature: [401, 'The OAuth signature does not verify with the consumer’s shared secret.'],
  nonce_replayed: [401, 'This oauth_nonce was already used: the launch is a replay.'],
  nonce_store_unavailable: [401, 'The replay check could not be made (Redis unavailable): open the link again.'],
  unsupported_message_type: [400, 'The lti_message_type is not basic-lti-launch-request.'],
  wrong_lti_version: [400, 'The lti_version is not LTI-1p0.'],
  missing_resource_link_id: [400, 'The launch has no resource_link_id.'],
  missing_user_id: [400, 'The launch has no user_id: anonymous launches are refused.'],
  foreign_target: [400, 'The custom target is not a URL of this tool.'],
  user_deactivated: [401, 'The account of this user is deactivated.'],
} as const satisfies Record<string, readonly [400 | 401, string]>;

export type Lti11Reason = keyof typeof LTI11_REASONS;

export class Lti11LaunchError extends Error {
  readonly status: 400 | 401;

  constructor(
    readonly reason: Lti11Reason,
    /** Details for the log only (never secrets or signatures). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(LTI11_REASONS[reason][1]);
    this.status = LTI11_REASONS[reason][0];
  }
}
