/**
 * Module boundaries (ARCHITECTURE.md): config → database → common → permissions → events → accounts →
 * jobs → course-accounts → mail → webhooks → registrar → lti → console. A module imports only modules to its left, and only through
 * their exported services and types: never another module's entities or repositories.
 */
const ORDER = [
  'config',
  'database',
  'common',
  'permissions',
  'events',
  'accounts',
  'jobs',
  'course-accounts',
  'mail',
  'webhooks',
  'registrar',
  'lti',
  'console',
];

const forbidden = ORDER.map((mod, i) => ({
  name: `${mod}-imports-only-leftwards`,
  comment: `${mod} may import only ${ORDER.slice(0, i).join(', ') || 'nothing of ours'}`,
  severity: 'error',
  from: { path: `^src/${mod}/` },
  to: { path: `^src/(${ORDER.slice(i + 1).join('|')})/` },
})).filter((r) => r.to.path !== '^src/()/');

module.exports = {
  forbidden: [
    ...forbidden,
    {
      name: 'no-foreign-entities',
      comment:
        "A module reaches another module's tables through that module's exported services and types " +
        '(type-only imports included). Foreign keys to its tables name the table: ' +
        "@ForeignKey('projects', …) on a plain uuid column, not a relation to its entity.",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: {
        path: '^src/[^/]+/.+[.](entity|repository)[.]ts$',
        // database/base.entity.ts is the abstract base of every entity (id and timestamps), not a table.
        pathNot: ['^src/$1/', '^src/database/base[.]entity[.]ts$'],
      },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'one-csv-writer',
      comment:
        'Every CSV goes through csvWriter() (src/common/csv/csv-writer.ts), which neutralizes cells a ' +
        'spreadsheet would run as formulas.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/common/csv/csv-writer[.]ts$' },
      to: { path: 'node_modules/csv-stringify/' },
    },
    {
      name: 'src-does-not-import-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
