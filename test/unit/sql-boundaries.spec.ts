import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * The module boundary for SQL, as dependency-cruiser checks it for imports: a module's SQL names
 * only the tables of its own entities. Another module's rows are read through its exported service.
 */
const SRC = join(__dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const moduleOf = (file: string) => relative(SRC, file).split(sep)[0];

/** Table → the module whose entity declares it (`@Entity('table')`). */
function tableOwners(files: string[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const file of files) {
    for (const [, table] of readFileSync(file, 'utf8').matchAll(/@Entity\(\s*'([a-z_]+)'/g))
      owners.set(table, moduleOf(file));
  }
  return owners;
}

/** The tables a source text names in SQL: after FROM, JOIN, INTO, UPDATE, TABLE, or in a query builder's from/join/into/update. */
export function tablesNamed(source: string, tables: readonly string[]): { table: string; line: number }[] {
  const names = tables.join('|');
  const sql = new RegExp(
    `\\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\\s+"?(${names})\\b|\\.(?:from|innerJoin|leftJoin|innerJoinAndSelect|leftJoinAndSelect|into|update)\\(\\s*'(${names})'`,
    'gi',
  );
  return [...source.matchAll(sql)].map((m) => ({
    table: m[1] ?? m[2],
    line: source.slice(0, m.index).split('\n').length,
  }));
}

describe('SQL module boundaries', () => {
  const files = sourceFiles(SRC);
  const owners = tableOwners(files);

  it('finds the tables of every module', () => {
    expect(owners.get('users')).toBe('accounts');
    expect(owners.get('group_memberships')).toBe('permissions');
    expect(owners.get('jobs')).toBe('jobs');
    expect(owners.get('course_accounts')).toBe('course-accounts');
  });

  it('recognizes a table named in SQL text and in a query builder, and not in a foreign key declaration', () => {
    const tables = ['projects', 'groups'];
    expect(tablesNamed('SELECT 1 FROM projects p WHERE p.id = $1', tables)).toEqual([{ table: 'projects', line: 1 }]);
    expect(tablesNamed("qb.innerJoin('projects', 'p', 'p.id = ca.project_id')", tables)).toEqual([
      { table: 'projects', line: 1 },
    ]);
    expect(tablesNamed('UPDATE "groups" SET name = $1\n JOIN projects', tables).map((t) => t.line)).toEqual([1, 2]);
    expect(tablesNamed("@ForeignKey('projects', { onDelete: 'RESTRICT' })", tables)).toEqual([]);
  });

  it("names no other module's table in any module's SQL", () => {
    const crossings = files.flatMap((file) =>
      tablesNamed(readFileSync(file, 'utf8'), [...owners.keys()])
        .filter(({ table }) => owners.get(table) !== moduleOf(file))
        .map(({ table, line }) => `${relative(SRC, file)}:${line} names ${table} (${owners.get(table)})`),
    );
    expect(crossings).toEqual([]);
  });
});
