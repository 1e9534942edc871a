/**
 * Why a login or launch was refused. Each reason is logged and shown on the page the browser gets
 * (400 for a request that is malformed or names something unknown, 401 for one whose proof fails),
 * never a 500 and never a launch. The table is also src/lti/README.md's.
 */
export const LTI_REASONS = {
  // Login (third-party initiated login, OIDC §4)
  missing_iss: [400, 'The login request has no iss.'],
  unknown_issuer: [400, 'No platform with this issuer is registered.'],
  missing_login_hint: [400, 'The login request has no login_hint.'],
  missing_target_link_uri: [400, 'The request has no target_link_uri.'],
  foreign_target_link_uri: [400, 'The target_link_uri is not a URL of this tool.'],
  unknown_client_id: [400, 'No platform with this issuer and client_id is registered.'],
  client_id_required: [400, 'This issuer is registered under several client ids: the login must name its client_id.'],
  unknown_deployment: [400, 'The deployment id is not one of the platform’s.'],
  invalid_parameter: [400, 'A parameter is repeated, too long or not text.'],
  // Launch: the form post
  missing_id_token: [400, 'The launch has no id_token.'],
  missing_state: [400, 'The launch has no state.'],
  unknown_state: [401, 'The state was not issued by this tool.'],
  state_expired: [401, 'The login took too long: its state expired. Open the link again.'],
  state_used: [401, 'This login was already used for a launch.'],
  state_store_unavailable: [401, 'The login could not be checked (Redis unavailable): open the link again.'],
  platform_deleted: [401, 'The platform was deleted.'],
  missing_state_cookie: [401, 'The browser did not send the state cookie, and no platform storage holds the state.'],
  state_cookie_mismatch: [401, 'The state cookie does not match the state.'],
  storage_cross_site: [401, 'The postMessage storage answer did not come from this tool’s own page.'],
  storage_value_mismatch: [401, 'The platform storage does not hold this login’s state.'],
  // Launch: the id_token (LTI Security Framework §5.1.3)
  malformed_id_token: [400, 'The id_token is not a signed JWT with a JSON payload.'],
  missing_kid: [401, 'The id_token header has no kid.'],
  alg_not_allowed: [401, 'The id_token algorithm is not RS256 (or ES256 for an EC key).'],
  unknown_kid: [401, 'The platform’s JWKS has no key with the id_token’s kid.'],
  bad_signature: [401, 'The id_token signature does not verify with the platform’s key.'],
  jwks_unavailable: [401, 'The platform’s JWKS could not be fetched.'],
  wrong_issuer: [401, 'The id_token iss is not the platform’s issuer.'],
  wrong_audience: [401, 'The id_token aud does not contain this tool’s client_id.'],
  missing_azp: [401, 'The id_token has several audiences and no azp.'],
  wrong_azp: [401, 'The id_token azp is not this tool’s client_id.'],
  missing_exp: [401, 'The id_token has no exp.'],
  missing_iat: [401, 'The id_token has no iat.'],
  token_expired: [401, 'The id_token has expired.'],
  iat_in_future: [401, 'The id_token was issued in the future.'],
  missing_nonce: [401, 'The id_token has no nonce.'],
  nonce_not_issued: [401, 'The id_token nonce was not issued by this tool.'],
  nonce_not_bound_to_state: [401, 'The id_token nonce belongs to another login than this state.'],
  nonce_used: [401, 'The id_token nonce was already used by a launch: an id_token is good for one launch.'],
  missing_deployment_id: [400, 'The id_token has no deployment_id.'],
  deployment_mismatch: [400, 'The id_token deployment_id is not the one the login named.'],
  wrong_version: [400, 'The LTI version is not 1.3.0.'],
  unsupported_message_type: [400, 'This tool does not handle this LTI message type.'],
  target_link_uri_mismatch: [400, 'The id_token target_link_uri is not the one the login named.'],
  missing_resource_link: [400, 'A resource-link launch needs resource_link.id.'],
  missing_deep_linking_settings: [
    400,
    'A deep-linking launch needs the deep_linking_settings claim (deep_link_return_url, accept_types).',
  ],
  missing_roles: [400, 'The id_token has no roles claim (an empty list is fine).'],
  missing_sub: [400, 'The id_token has no sub: anonymous launches are refused.'],
  invalid_claim: [400, 'A claim has the wrong type or is too long.'],
  user_deactivated: [401, 'The account of this user is deactivated.'],
} as const satisfies Record<string, readonly [400 | 401, string]>;

export type LtiReason = keyof typeof LTI_REASONS;

export class LtiLaunchError extends Error {
  readonly status: 400 | 401;

  constructor(
    readonly reason: LtiReason,
    /** Details for the log only (never secrets); the page shows the reason and its message. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(LTI_REASONS[reason][1]);
    this.status = LTI_REASONS[reason][0];
  }
}
