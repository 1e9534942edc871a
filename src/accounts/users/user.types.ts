/** What other modules know of users: they create and change them through UsersService, never the entity. */
export type UserKind = 'person' | 'course_account' | 'lti' | 'external';

/** A user to insert (UsersService.insert, insertMany). Defaults: an active local person, no password. */
export interface NewUser {
  username: string;
  email?: string | null;
  firstName?: string;
  lastName?: string;
  organizationId?: string | null;
  kind?: UserKind;
  source?: string;
  password?: string;
  isStaff?: boolean;
  isSupport?: boolean;
  isActive?: boolean;
}
