import { SelfRenderingError } from '../../common/errors/app-error';

/** RFC 6749 §5.2's codes, and §4.1.2.1's `temporarily_unavailable` and `server_error` for failures on our side. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'temporarily_unavailable'
  | 'server_error';

/**
 * RFC 6749 §5.2 allows only `%x20-21 / %x23-5B / %x5D-7E` in `error_description`: descriptions never echo
 * what the client sent, and any other character that slips in (a message from a lower layer) becomes `?`.
 */
export function oauthDescription(message: string): string {
  return message.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?');
}

/** RFC 6749 §5.2 error response: `{ error, error_description }`, never cached. */
export class OAuthError extends Error implements SelfRenderingError {
  constructor(
    readonly code: OAuthErrorCode,
    message: string,
    readonly status: number = code === 'invalid_client'
      ? 401
      : code === 'temporarily_unavailable'
        ? 503
        : code === 'server_error'
          ? 500
          : 400,
    private readonly extraHeaders: Record<string, string> = {},
  ) {
    super(message);
  }

  render() {
    return {
      body: { error: this.code, error_description: oauthDescription(this.message) },
      headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache', ...this.extraHeaders },
    };
  }
}
