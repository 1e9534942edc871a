import type { SettingSpec } from './setting-spec';
import { SERVER_SETTINGS } from './settings/server.settings';
import { SETTINGS_SOURCES_SETTINGS } from './settings/sources.settings';
import { ACCOUNTS_SETTINGS } from './settings/accounts.settings';
import { JOBS_SETTINGS } from './settings/jobs.settings';
import { COURSE_ACCOUNTS_SETTINGS } from './settings/course-accounts.settings';
import { REGISTRAR_SETTINGS } from './settings/registrar.settings';
import { LTI_SETTINGS } from './settings/lti.settings';

export type { SettingKind, SettingSpec } from './setting-spec';

/**
 * Every setting Campus Access reads, in one table made of one part per area (`settings/*.settings.ts`;
 * add a setting to its area's part). README's configuration table and .env.example are checked
 * against this list by a test, so a setting cannot exist without documentation. The order of the
 * parts is the order of the README table.
 */
export const SETTINGS_SCHEMA = {
  ...SERVER_SETTINGS,
  ...SETTINGS_SOURCES_SETTINGS,
  ...ACCOUNTS_SETTINGS,
  ...JOBS_SETTINGS,
  ...COURSE_ACCOUNTS_SETTINGS,
  ...REGISTRAR_SETTINGS,
  ...LTI_SETTINGS,
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS_SCHEMA;

type ValueOf<S extends SettingSpec> = S['kind'] extends 'int' | 'duration_ms'
  ? number
  : S['kind'] extends 'bool'
    ? boolean
    : S['kind'] extends 'list'
      ? string[]
      : S extends { values: readonly (infer V)[] }
        ? V
        : string;

type Spec = typeof SETTINGS_SCHEMA;

/** Typed settings: a setting with a default is always present; one without may be undefined. */
export type Settings = {
  readonly [K in SettingName]: Spec[K] extends { default: string } ? ValueOf<Spec[K]> : ValueOf<Spec[K]> | undefined;
};
