import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The web console: built into dist/console-app (served at /console by src/console), tested with
 * Vitest in happy-dom. Preact's automatic JSX runtime through esbuild; no other plugin.
 */
export default defineConfig({
  root: here,
  base: '/console/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../dist/console-app', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No inline script or style: the CSP of the console's pages allows 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
  test: {
    root: here,
    environment: 'happy-dom',
    include: ['test/**/*.test.{ts,tsx}'],
  },
});
