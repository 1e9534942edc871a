import { createServer } from 'node:http';
import { isBlockedAddress, safePost } from '../../src/webhooks/safe-http';

describe('Webhook delivery: server-side request forgery', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.20.0.1', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:10.0.0.1', true],
    ['::ffff:127.0.0.1', true],
    ['8.8.8.8', false],
    ['93.184.216.34', false],
    ['2606:4700:4700::1111', false],
  ])('%s blocked: %s', (address, blocked) => {
    expect(isBlockedAddress(address)).toBe(blocked);
  });

  it('refuses loopback by literal address and after DNS resolution, and sends nothing', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const options = { timeoutMs: 2000, allowPrivate: false };
      const literal = await safePost(`http://127.0.0.1:${port}/`, {}, '{}', options);
      expect(literal).toMatchObject({ network: false, excerpt: '' });
      expect(literal.error).toMatch(/loopback, private or link-local/);
      const named = await safePost(`http://localhost:${port}/`, {}, '{}', options);
      expect(named).toMatchObject({ network: false, excerpt: '' });
      expect(named.error).toMatch(/localhost resolves to .* loopback, private or link-local/);
      expect(hits).toBe(0);
      const allowed = await safePost(`http://localhost:${port}/`, {}, '{}', { ...options, allowPrivate: true });
      expect(allowed).toMatchObject({ status: 200, excerpt: 'ok' });
      expect(hits).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
