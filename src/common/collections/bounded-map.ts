/**
 * Sets `key` in a map used as a bounded cache: at `max` entries the oldest insertion goes first. Setting a key
 * again moves it to the newest end.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value as K);
  map.set(key, value);
}
