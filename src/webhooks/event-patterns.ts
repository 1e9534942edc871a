import { EVENT_TYPES } from '../events/event-types';

/** An event type, or a pattern with `*` standing for any run of characters (`course_account.*`, `*`). */
export const EVENT_PATTERN = /^(\*|[a-z_]+\.(\*|[a-z_]+))$/;

export function matchesEventType(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => {
    if (p === '*') return true;
    if (p.endsWith('.*')) return type.startsWith(p.slice(0, -1));
    return p === type;
  });
}

/** Patterns that match no known event type (nor `ping`): a typo. */
export function unknownPatterns(patterns: readonly string[]): string[] {
  return patterns.filter((p) => !EVENT_TYPES.some((t) => matchesEventType([p], t)));
}
