import { SelfRenderingError } from '../../common/errors/app-error';

/** RFC 6750 errors: status, `WWW-Authenticate: Bearer …`, and our usual body. */
export class BearerError extends Error implements SelfRenderingError {
  constructor(
    readonly status: 401 | 403,
    readonly code: 'invalid_token' | 'insufficient_scope' | 'unauthorized',
    message: string,
  ) {
    super(message);
  }

  render() {
    const challenge =
      this.code === 'unauthorized'
        ? 'Bearer realm="campus-access"'
        : `Bearer realm="campus-access", error="${this.code}", error_description="${this.message.replace(/"/g, "'")}"`;
    return { body: { error: this.code, message: this.message }, headers: { 'WWW-Authenticate': challenge } };
  }
}
