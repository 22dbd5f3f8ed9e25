// Ports for start-up tests: runs of free ports, and ports some other program already holds.
import { createServer } from 'node:net';
import { freePort } from './redis-server.js';

export interface HeldPort {
  port: number;
  release(): Promise<void>;
}

/** Listens on `port` (0: a free one) on every interface, IPv4 and IPv6, so any bind to it fails. */
export async function holdPort(port = 0): Promise<HeldPort> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address for the held port');
  return {
    port: address.port,
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first of `count` consecutive free ports (`npm start` gives worker i the base port + i). */
export async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = await freePort();
    if (base + count > 65536) continue;
    const held: HeldPort[] = [];
    try {
      for (let i = 1; i < count; i++) held.push(await holdPort(base + i));
      return base;
    } catch {
      // one of them is taken: try another base
    } finally {
      await Promise.all(held.map((h) => h.release()));
    }
  }
  throw new Error(`no run of ${count} free ports found`);
}
