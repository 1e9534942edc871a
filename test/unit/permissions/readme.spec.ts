import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLES } from '../../../src/permissions/roles';

const README = join(__dirname, '..', '..', '..', 'src', 'permissions', 'README.md');

/** The README's roles table, as roles.ts would write it. */
function rolesTable(): string {
  const rows = ROLES.map(
    (r) =>
      `| \`${r.name}\` | ${r.scopeType} | ${r.description} | ${[
        ...r.permissions.map((p) => `${p.action} ${p.subject}`),
        ...(r.except ?? []).map((p) => `except ${p.action} ${p.subject}`),
      ].join(', ')} |`,
  );
  return ['| Role | Scope | What it is for | Permissions |', '|---|---|---|---|', ...rows].join('\n');
}

describe('permissions README', () => {
  it('has the roles table of roles.ts', () => {
    const readme = readFileSync(README, 'utf8');
    const table = /<!-- roles:start[^>]*-->\n([\s\S]*?)\n<!-- roles:end -->/.exec(readme)?.[1];
    expect(table).toBe(rolesTable());
  });
});
