/**
 * Browser sessions for staff dashboards served outside the API (the Bull queue dashboard): a page
 * and its XHRs cannot carry a bearer token, so `POST /auth/dashboard-session` puts a short-lived
 * access token in an HttpOnly cookie that only the dashboard's path receives.
 */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';
export const DASHBOARD_SESSION_COOKIE = 'campus_access_dashboard';
