/** The scope a service account needs in its allowed scopes to call the introspection endpoint; only staff grant it. */
export const INTROSPECT_SCOPE = 'token:introspect';
