#!/usr/bin/env node
// Installs dependencies when node_modules is missing or older than package-lock.json, so the
// README's two commands work on a fresh clone. It runs `npm install`, which installs the locked
// versions and honours allowScripts: npm 11's `npm ci` rejects lockfiles that leave out other
// platforms' optional binaries (@swc/core-*, @unrs/resolver-binding-*), which npm itself writes.
const { existsSync, statSync } = require('node:fs');
const { execSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  process.stdout.write('Installing dependencies (npm install)…\n');
  execSync('npm install --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}
