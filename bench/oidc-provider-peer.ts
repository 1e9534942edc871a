/**
 * The peer of bench:tokens (a): oidc-provider 9 issuing client_credentials tokens as RS256 JWT access
 * tokens (RFC 9068) to one static client held in memory (its `clients` configuration), on node:http in
 * this process, as its documentation sets it up. Nothing else is configured: no adapter (its in-memory
 * default), no logging (it logs nothing by default), its own defaults for everything else.
 */
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';

export interface PeerOptions {
  clientId: string;
  secret: string;
  audience: string;
  ttlSeconds: number;
}

export async function oidcProviderPeer(options: PeerOptions): Promise<{ server: Server; origin: string }> {
  // ES module only; Node 20.19+ loads it with require().
  const { default: Provider } = await import('oidc-provider');
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(origin, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'peer' }] },
    ttl: { ClientCredentials: options.ttlSeconds },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // JWT access tokens are issued for a resource server (RFC 8707); one default resource here.
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:campus-access:bench',
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          audience: options.audience,
          scope: '',
          accessTokenFormat: 'jwt',
          accessTokenTTL: options.ttlSeconds,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  server.on('request', provider.callback());
  return { server, origin };
}
