import { defineJob } from '../processors/job-definition';

/** Long exports get their own queue, so they never hold up short jobs. */
export const EXPORTS_QUEUE = 'exports';

export interface UsersExportPayload {
  organizationId: string;
}

/**
 * CSV of an organization's users, streamed into the `users.csv` artifact. Its owner must still be
 * allowed to export them when it runs, and when they download it.
 */
export const USERS_EXPORT = defineJob<UsersExportPayload>('users.export', {
  queue: EXPORTS_QUEUE,
  requires: ({ organizationId }) => ({
    action: 'export',
    subject: 'User',
    object: { organizationId },
    description: "export this organization's users",
  }),
});

export const USERS_EXPORT_COLUMNS = [
  'id',
  'username',
  'email',
  'first_name',
  'last_name',
  'is_active',
  'kind',
  'source',
  'created_at',
] as const;
