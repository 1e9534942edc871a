import { readAwsSecret } from './aws-secrets-manager';
import { readLocalFile } from './file';
import { readGcsObject } from './google-cloud-storage';
import { readGoogleSecret } from './google-secret-manager';
import { readHttpDocument } from './http';
import { readS3Object } from './s3';
import { readVaultSecret } from './vault';
import type { SettingsSource } from './types';

export type { SettingsSource, SourceRequest } from './types';

/** Where EXTRA_SETTINGS_URLS entries may point, by URL scheme; an entry without a scheme is a local path. */
export const SETTINGS_SOURCES: Readonly<Record<string, SettingsSource>> = {
  file: readLocalFile,
  https: readHttpDocument,
  http: readHttpDocument,
  s3: readS3Object,
  gs: readGcsObject,
  sm: readGoogleSecret,
  awssm: readAwsSecret,
  vault: readVaultSecret,
};
