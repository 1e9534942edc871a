import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Principal } from '../../src/common/auth/principal';
import { SettingName } from '../../src/config/settings.schema';
import type { AppAbility } from '../../src/permissions/ability';
import { AbilityFactory } from '../../src/permissions/ability.factory';
import type { TestApp } from './test-app';
import { TEST_REDIS_URL } from './test-databases';

/** A principal as the authentication guard would build it. */
export function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    type: 'user',
    id: randomUUID(),
    name: `user-${Math.random().toString(36).slice(2, 8)}`,
    tokenKind: 'user',
    scopes: [],
    isStaff: false,
    isSupport: false,
    ...overrides,
  };
}

/** The ability a request of `who` would carry, for calling services directly. */
export function abilityOf(t: TestApp, who: Principal): Promise<AppAbility> {
  return t.app.get(AbilityFactory).for(who);
}

export type JobsAdapterName = 'in-process' | 'bull';

/** Settings for a job test app: fast timers, its own artifact folder and, for Bull, its own queue prefix. */
export function jobSettings(adapter: JobsAdapterName, extra: Partial<Record<SettingName, string>> = {}) {
  return {
    JOB_ARTIFACT_DIR: mkdtempSync(join(tmpdir(), 'ca-artifacts-')),
    JOB_RETRY_BACKOFF_MS: '200',
    JOB_HEARTBEAT_INTERVAL_MS: '100',
    JOB_HEARTBEAT_TIMEOUT_MS: '1500',
    JOB_SWEEP_INTERVAL_MS: '0',
    JOB_REDISPATCH_AFTER_MS: '500',
    SHUTDOWN_TIMEOUT_MS: '500',
    ...(adapter === 'bull' ? { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: `ca-test-${randomUUID()}` } : {}),
    ...extra,
  } satisfies Partial<Record<SettingName, string>>;
}

/** Polls until `check` returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`Timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
