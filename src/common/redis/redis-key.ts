import type { Settings } from '../../config/settings.schema';

/**
 * The name of anything the application keeps in Redis: `REDIS_KEY_PREFIX`, then the parts, joined
 * by `:` (`ca:rl:login:ip:…`, `ca:bull:<queue>:…`). Every key goes through it, so deployments (or
 * test runs) sharing one Redis never see each other's queues, limits, nonces or deny lists.
 */
export function redisKey(settings: Pick<Settings, 'REDIS_KEY_PREFIX'>, ...parts: string[]): string {
  return [settings.REDIS_KEY_PREFIX, ...parts].join(':');
}
