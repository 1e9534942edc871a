/**
 * Module boundaries (ARCHITECTURE.md): config → database → common → permissions → accounts → jobs →
 * course-accounts → registrar → lti. A module imports only modules to its left.
 */
const ORDER = ['config', 'database', 'common', 'permissions', 'accounts', 'jobs', 'course-accounts', 'registrar', 'lti'];

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
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
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
