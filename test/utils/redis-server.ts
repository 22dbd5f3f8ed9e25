// Starts and stops private redis-server processes on free ports, so tests never touch the
// machine's own Redis on 6379 (and fault tests can kill theirs).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface PrivateRedis {
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  /** SIGKILL; `keepData` leaves the data directory for a restart on the same port. */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** Kill -9 and start again on the same port and data (with `persist`, nothing is lost). */
  restart(): Promise<PrivateRedis>;
}

export interface RedisOptions {
  /** Append-only file fsynced on every write, so a kill -9 and restart keeps every write. */
  persist?: boolean;
  /** Data directory (a restart passes the old one). */
  dir?: string;
}

export async function startRedis(port?: number, options: RedisOptions = {}): Promise<PrivateRedis> {
  const chosen = port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'predictq-redis-'));
  const persistence = options.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const child = spawn(
    'redis-server',
    ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${chosen}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${chosen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const kill = async () => {
    // Safe to call twice, and after the process was killed some other way.
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  };
  return {
    url,
    port: chosen,
    dir,
    process: child,
    async stop({ keepData = false } = {}) {
      await kill();
      if (!keepData) rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await kill();
      return startRedis(chosen, { ...options, dir });
    },
  };
}
