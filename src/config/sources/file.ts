import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SettingsSource } from './types';

/** A bare path (relative to the working directory) or a `file://` URL. */
export const readLocalFile: SettingsSource = ({ ref }) =>
  readFile(ref.toLowerCase().startsWith('file://') ? fileURLToPath(ref) : resolve(ref), 'utf8');
