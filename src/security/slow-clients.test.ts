import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../test/support/harness.ts';
import { buildApp, type App } from '../http/app.ts';

/** Opens a socket, writes `sent`, then stalls; resolves with how long the server kept it open and what it answered. */
function stallAfter(port: number, sent: string): Promise<{ ms: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let answer = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(sent));
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ ms: Date.now() - started, answer }));
    setTimeout(() => {
      socket.destroy();
      reject(new Error('the server kept a stalled connection open for 15 s'));
    }, 15_000);
  });
}

describeEachEngine('slow clients', (h) => {
  // The same app `lethe serve` builds, listening on a real socket, with a 1-second idle timeout.
  let app: App;
  let port: number;
  beforeAll(async () => {
    app = await buildApp({ ...h.ctx, config: { ...h.ctx.config, httpIdleTimeoutSeconds: 1, httpRequestTimeoutSeconds: 2 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as net.AddressInfo).port;
  });
  afterAll(() => app?.close());

  it('cuts off a client that sends the headers and then stalls before the body', async () => {
    const head = 'POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"email":';
    const { ms } = await stallAfter(port, head);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(5_000);
  });

  it('cuts off a client that stalls in the middle of its headers', async () => {
    const { ms } = await stallAfter(port, 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(5_000);
  });

  it('still answers a client that sends its request in time', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(res.status).toBe(200);
  });

  it('reads the timeouts from the configuration', () => {
    expect(app.server.requestTimeout).toBe(2_000);
    expect(app.server.timeout).toBe(1_000);
    expect(h.app.server.keepAliveTimeout).toBe(h.ctx.config.httpKeepAliveSeconds * 1000);
  });
});
