import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where `npm run build:console` writes the console (console/vite.config.ts): dist/console-app. */
export const CONSOLE_BUILD_DIR = 'console-app';

/** The built console's folder, found from src/ (tests, ts-node) and from dist/ alike; null when it is not built. */
export function consoleBuildDir(): string | null {
  for (const candidate of [
    join(__dirname, '..', CONSOLE_BUILD_DIR),
    join(__dirname, '..', '..', 'dist', CONSOLE_BUILD_DIR),
  ]) {
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  return null;
}
