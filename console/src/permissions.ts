/** An action the API lists for an object: `manage` stands for every action. */
export function can(actions: readonly string[] | null | undefined, action: string): boolean {
  if (!actions) return false;
  return actions.includes(action) || actions.includes('manage');
}
