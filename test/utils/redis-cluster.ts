// A private Redis Cluster for tests: three masters (redis-server with cluster-enabled) on free
// loopback ports, joined with `redis-cli --cluster create`, no replicas. Its address is the
// comma-separated seed list that predictq's REDIS_URL takes for a cluster.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './redis-server.js';
import { holdPort } from './ports.js';

export interface PrivateRedisCluster {
  /** `redis://127.0.0.1:p1,redis://127.0.0.1:p2,redis://127.0.0.1:p3` */
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

/** A port whose cluster bus port (port + 10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (port > 55_000 || taken.has(port) || taken.has(port + 10_000)) continue;
    try {
      await (await holdPort(port + 10_000)).release();
      return port;
    } catch {
      // the bus port is taken: try another
    }
  }
  throw new Error('no free port pair for a cluster node');
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`redis cluster: ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ask<T>(port: number, command: (r: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return await command(client);
  } finally {
    client.disconnect();
  }
}

export async function startRedisCluster(masters = 3): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'predictq-cluster-'));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) {
    const port = await clusterPort(taken);
    taken.add(port).add(port + 10_000);
    ports.push(port);
  }
  const nodes: ChildProcess[] = ports.map((port) => {
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir);
    return spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
        '--cluster-node-timeout', '2000', '--appendonly', 'no', '--save', '', '--dir', nodeDir],
      { stdio: 'ignore' },
    );
  });
  const stop = async () => {
    await Promise.all(
      nodes.map(async (node) => {
        if (node.exitCode !== null || node.signalCode !== null) return;
        const exited = new Promise((r) => node.once('exit', r));
        node.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await waitFor(async () => (await ask(port, (r) => r.ping())) === 'PONG', `node ${port} did not start`);
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.error) throw create.error;
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
    // Every node must agree that all slots are served before a client can rely on the slot map.
    for (const port of ports) {
      await waitFor(async () => /cluster_state:ok/.test(await ask(port, (r) => r.cluster('INFO') as Promise<string>)), `node ${port} did not report cluster_state:ok`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: ports.map((p) => `redis://127.0.0.1:${p}`).join(','), ports, stop };
}
