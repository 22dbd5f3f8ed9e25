// A port some other program already holds, for start-up tests of taken ports.
import { createServer } from 'node:net';

export interface HeldPort {
  port: number;
  release(): Promise<void>;
}

/** Listens on a free port on every interface (IPv4 and IPv6), so any bind to it fails. */
export async function holdPort(): Promise<HeldPort> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address for the held port');
  return {
    port: address.port,
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
