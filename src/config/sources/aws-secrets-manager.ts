import type { SettingsSource } from './types';

/**
 * The SecretId and VersionStage of `awssm://SECRET-ID#VERSION-STAGE`. Parsed by hand, not as a URL:
 * a SECRET-ID may be an ARN, whose colons a URL parser takes for a port.
 */
function secretRequest(ref: string): { SecretId: string; VersionStage?: string } {
  const rest = ref.slice(ref.indexOf('://') + 3);
  const hash = rest.indexOf('#');
  const SecretId = decodeURIComponent(hash < 0 ? rest : rest.slice(0, hash));
  const VersionStage = hash < 0 ? undefined : decodeURIComponent(rest.slice(hash + 1)) || undefined;
  if (!SecretId) throw new Error('expected awssm://SECRET-ID or awssm://SECRET-ID#VERSION-STAGE');
  return { SecretId, VersionStage };
}

/**
 * `awssm://SECRET-ID#VERSION-STAGE`: an AWS Secrets Manager secret (AWSCURRENT without a stage),
 * read with the AWS default credential chain. The region is AWS_SECRETS_MANAGER_REGION, else the
 * ARN's, else the AWS default chain's (AWS_REGION…).
 */
export const readAwsSecret: SettingsSource = async ({ ref, signal, get }) => {
  const request = secretRequest(ref);
  const arnRegion = /^arn:[^:]+:secretsmanager:([^:]+):/.exec(request.SecretId)?.[1];
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({
    region: get('AWS_SECRETS_MANAGER_REGION') ?? arnRegion,
    endpoint: get('AWS_SECRETS_MANAGER_ENDPOINT'),
  });
  try {
    const out = await client.send(new GetSecretValueCommand(request), { abortSignal: signal });
    if (out.SecretString !== undefined) return out.SecretString;
    if (out.SecretBinary !== undefined) return Buffer.from(out.SecretBinary).toString('utf8');
    throw new Error('the secret has no value');
  } catch (e) {
    // The SDK's errors are named for what went wrong (ResourceNotFoundException, AccessDeniedException…).
    const err = e as Error;
    throw signal.aborted || err.name === 'Error' ? err : new Error(`${err.name}: ${err.message}`, { cause: err });
  } finally {
    client.destroy();
  }
};
