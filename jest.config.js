// One jest run for the whole repository; each workspace is a project so
// `npm test -w <pkg>` (or --selectProjects) runs just one.
const swc = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' }, sourceMaps: 'inline' },
];

const swcJs = ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }];

/** Internal packages resolve to their TypeScript source in tests, so tests never run stale builds. */
const moduleNameMapper = {
  '^@haven/protocol$': '<rootDir>/../../packages/protocol/src/index.ts',
  '^@haven/db$': '<rootDir>/../../packages/db/src/index.ts',
  '^@haven/db/testing$': '<rootDir>/../../packages/db/testing/index.ts',
  '^@haven/risk$': '<rootDir>/../../packages/risk/src/index.ts',
  '^@haven/agent-core$': '<rootDir>/../../packages/agent-core/src/index.ts',
};

const project = (name, dir, extra = {}) => ({
  displayName: name,
  rootDir: `<rootDir>/${dir}`.replace('<rootDir>/', `${__dirname}/`),
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc, '^.+\\.js$': swcJs },
  // cookie 2 (used by fastify's inject) is ESM-only; jest on Node 20 cannot require() ESM.
  transformIgnorePatterns: ['/node_modules/(?!cookie/)'],
  moduleNameMapper,
  testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  testTimeout: 60_000,
  ...extra,
});

module.exports = {
  projects: [
    project('protocol', 'packages/protocol'),
    project('db', 'packages/db'),
    project('risk', 'packages/risk'),
    project('agent-core', 'packages/agent-core'),
    project('collector', 'apps/collector'),
    project('agent', 'apps/agent'),
  ],
  testTimeout: 60_000,
};
