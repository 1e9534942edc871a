import type { SettingSpec } from '../setting-spec';

/** Where extra settings are read from: secret managers and Vault. */
export const SETTINGS_SOURCES_SETTINGS = {
  EXTRA_SETTINGS_URLS: {
    kind: 'list',
    default: '',
    description:
      'Comma-separated sources of settings applied in order: `file://…`, bare paths, `https://…`, `s3://BUCKET/KEY`, `gs://BUCKET/OBJECT`, `sm://PROJECT/SECRET#VERSION`, `awssm://SECRET-ID#VERSION-STAGE`, `vault://MOUNT/PATH#FIELD`. Each holds a YAML mapping of settings; an entry written `SETTING=SOURCE` sets that one setting to the value read.',
  },
  EXTRA_SETTINGS_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '5000',
    min: 100,
    description: 'Timeout for reading each EXTRA_SETTINGS_URLS entry from a server (everything but local files).',
  },
  S3_ENDPOINT: {
    kind: 'url',
    description:
      'Endpoint of an S3-compatible store (MinIO, Ceph…). Unset: AWS S3. Credentials from the AWS default chain.',
  },
  S3_REGION: { kind: 'string', default: 'us-east-1', description: 'S3 region.' },
  S3_FORCE_PATH_STYLE: {
    kind: 'bool',
    default: 'false',
    description: 'Path-style S3 URLs (most S3-compatible stores).',
  },
  GOOGLE_SECRET_MANAGER_ENDPOINT: {
    kind: 'url',
    description:
      'Endpoint of Google Secret Manager for `sm://` entries, e.g. a Private Service Connect endpoint or a local emulator (plain `http://` only on loopback). Unset: secretmanager.googleapis.com. Credentials: application default credentials.',
  },
  AWS_SECRETS_MANAGER_ENDPOINT: {
    kind: 'url',
    description:
      'Endpoint of AWS Secrets Manager for `awssm://` entries (a VPC endpoint, LocalStack…). Unset: the regional AWS endpoint. Credentials from the AWS default chain.',
  },
  AWS_SECRETS_MANAGER_REGION: {
    kind: 'string',
    description:
      "Region of AWS Secrets Manager for `awssm://` entries. Unset: the secret ARN's region, else the AWS default chain's (`AWS_REGION`…).",
  },
  VAULT_ADDR: {
    kind: 'url',
    description:
      'HashiCorp Vault server for `vault://` entries, e.g. `https://vault.example.edu:8200` (plain `http://` only on loopback).',
  },
  VAULT_TOKEN: {
    kind: 'string',
    secret: true,
    description: 'Vault token for `vault://` entries. Unset: an AppRole login with VAULT_ROLE_ID and VAULT_SECRET_ID.',
  },
  VAULT_ROLE_ID: { kind: 'string', description: 'Role ID of the Vault AppRole login used when VAULT_TOKEN is unset.' },
  VAULT_SECRET_ID: {
    kind: 'string',
    secret: true,
    description: 'Secret ID of the Vault AppRole login used when VAULT_TOKEN is unset.',
  },
  VAULT_APPROLE_MOUNT: {
    kind: 'string',
    default: 'approle',
    description: 'Path the AppRole auth method is mounted at (`auth/<mount>/login`).',
  },
} as const satisfies Record<string, SettingSpec>;
