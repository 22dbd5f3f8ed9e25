// docker-compose.yml, without a Docker engine: Debian's `docker-compose config` validates it
// against the Compose schema and resolves it (paths, defaults), and the resolved file is checked
// for what predictq needs: its images' commands exist, its environment is settings predictq
// reads, workers scale with --scale, and Prometheus and Grafana load deploy/'s rules and
// dashboard.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigSchema, loadConfig } from '@predictq/core';
import { ROOT } from './utils/processes.js';

interface Service {
  image?: string;
  build?: { context: string };
  command?: string[];
  container_name?: string;
  environment?: Record<string, string>;
  ports?: unknown[];
  volumes?: Array<string | { source: string; target: string }>;
  deploy?: { replicas?: number };
  depends_on?: Record<string, unknown>;
}

const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const KNOWN_ENV = new Set([
  'REDIS_URL', 'PORT', 'OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_MODEL', 'LM_SIM_PORT', 'LM_SIM_HOST',
  'WORKER_METRICS_PORT', 'PREDICTQ_CONFIG', 'PREDICTQ_ADMIN_KEY', 'LOG_LEVEL',
]);

/** `docker-compose -f <file> config <args>` with no variables from this machine's environment. */
function composeConfig(file: string, args: string[] = []) {
  const run = spawnSync('docker-compose', ['-f', file, '--project-directory', ROOT, 'config', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
  });
  if (run.error) throw new Error(`docker-compose cannot run (${run.error.message}): apt-get install docker-compose (.ci/run does)`);
  return { status: run.status, stdout: run.stdout, output: `${run.stdout}${run.stderr}` };
}

const resolved = composeConfig(COMPOSE_FILE);
const services = (resolved.status === 0 ? (parse(resolved.stdout) as { services: Record<string, Service> }).services : {}) as Record<string, Service>;
const predictq = Object.entries(services).filter(([, s]) => s.build);

/** A service's bind mounts: host path (absolute, as resolved) to container path. */
function mounts(service: Service): Map<string, string> {
  return new Map(
    (service.volumes ?? []).map((v) => {
      if (typeof v !== 'string') return [v.source, v.target];
      const [source, target] = v.split(':');
      return [source!, target!];
    }),
  );
}

describe('docker-compose.yml', () => {
  it('passes `docker-compose config`, which refuses a misspelt option or a wrong type', () => {
    expect(resolved.status, resolved.output).toBe(0);
    // The check can fail: the same file with one typo and with one bad value.
    const dir = mkdtempSync(join(tmpdir(), 'predictq-compose-'));
    try {
      const text = readFileSync(COMPOSE_FILE, 'utf8');
      for (const [broken, key] of [
        [text.replace('stop_grace_period:', 'stop_grace_perod:'), 'stop_grace_perod'],
        [text.replace('replicas: 2', 'replicas: two'), 'replicas'],
      ] as const) {
        expect(broken).not.toBe(text);
        const file = join(dir, 'docker-compose.yml');
        writeFileSync(file, broken);
        const run = composeConfig(file, ['-q']);
        expect(run.status, key).not.toBe(0);
        expect(run.output, key).toContain(key);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has redis with AOF, the simulator, the producer, two worker replicas, Prometheus and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(['grafana', 'lm-sim', 'producer', 'prometheus', 'redis', 'worker']);
    const redis = services.redis!.command!;
    expect(redis[redis.indexOf('--appendonly') + 1]).toBe('yes');
    expect(services.worker!.deploy?.replicas).toBe(2);
    expect(Object.keys(services.producer!.depends_on ?? {})).toContain('redis');
    expect(Object.keys(services.worker!.depends_on ?? {})).toContain('redis');
  });

  it('lets the worker service scale with --scale worker=N: no fixed name, no host port', () => {
    expect(services.worker!.container_name).toBeUndefined();
    expect(services.worker!.ports).toBeUndefined();
    // Longer than the worker's shutdown deadline (its config as compose sets it), so a scale-down drains.
    const grace = /^(\d+)s$/.exec(String((services.worker as { stop_grace_period?: string }).stop_grace_period))?.[1];
    expect(Number(grace) * 1000).toBeGreaterThan(loadConfig(services.worker!.environment!).shutdown_timeout_ms);
  });

  it('builds from this repo and runs commands that the build produces, with the heap cap', () => {
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/npm run build/);
    expect(predictq.map(([name]) => name).sort()).toEqual(['lm-sim', 'producer', 'worker']);
    for (const [name, service] of predictq) {
      expect(service.build!.context, name).toBe(ROOT);
      const [bin, ...args] = service.command ?? [];
      expect(bin, name).toBe('node');
      // Node's own flags (the heap cap) come before the script.
      const script = args.find((a) => !a.startsWith('--'));
      // dist/main.js is compiled from src/main.ts by `npm run build`.
      const source = script!.replace('/dist/', '/src/').replace(/\.js$/, '.ts');
      expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true);
      if (name !== 'lm-sim') expect(args, name).toContain('--max-old-space-size=1024');
    }
  });

  it('sets only environment variables predictq reads, with values its config accepts', () => {
    for (const [name, service] of predictq) {
      for (const key of Object.keys(service.environment ?? {})) expect(KNOWN_ENV.has(key), `${name}: ${key}`).toBe(true);
    }
    const env = services.producer!.environment!;
    const parsed = ConfigSchema.safeParse({
      redis_url: env.REDIS_URL,
      port: Number(env.PORT),
      routes: [{ name: 'default', model: 'sim-small', base_url: env.OPENAI_BASE_URL }],
    });
    expect(parsed.success).toBe(true);
  });

  it('runs Prometheus on deploy/prometheus: its alert rules, the producer and every worker replica', () => {
    const prometheus = services.prometheus!;
    const dir = mounts(prometheus).get(join(ROOT, 'deploy', 'prometheus'));
    expect(dir).toBe('/etc/prometheus');
    expect(prometheus.command).toContain(`--config.file=${dir}/prometheus.yml`);
    const config = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; static_configs?: Array<{ targets: string[] }>; dns_sd_configs?: Array<{ names: string[]; type: string; port: number }> }>;
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
    expect(existsSync(join(ROOT, 'deploy', 'prometheus', 'alerts.yml'))).toBe(true);
    const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name)!;
    expect(job('predictq-producer').static_configs![0]!.targets).toEqual([`producer:${services.producer!.environment!.PORT}`]);
    // Found by DNS: the service name answers with every replica, however many --scale made.
    expect(job('predictq-worker').dns_sd_configs).toEqual([
      expect.objectContaining({ names: ['worker'], type: 'A', port: Number(services.worker!.environment!.WORKER_METRICS_PORT) }),
    ]);
  });

  it('runs Grafana with the Prometheus data source and the dashboard of deploy/grafana', () => {
    const grafana = mounts(services.grafana!);
    expect(grafana.get(join(ROOT, 'deploy', 'grafana', 'provisioning'))).toBe('/etc/grafana/provisioning');
    const provisioning = join(ROOT, 'deploy', 'grafana', 'provisioning');
    const datasources = parse(readFileSync(join(provisioning, 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: Array<{ type: string; url: string; isDefault: boolean }> };
    expect(datasources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true })]);
    expect(services.prometheus!.ports).toEqual([expect.objectContaining({ target: 9090 })]);
    const providers = parse(readFileSync(join(provisioning, 'dashboards', 'predictq.yml'), 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> };
    const dashboardIn = grafana.get(join(ROOT, 'deploy', 'grafana', 'predictq-dashboard.json'));
    expect(dashboardIn).toBe(`${providers.providers[0]!.options.path}/predictq-dashboard.json`);
    // Provisioning loads the JSON as it is: an import placeholder like ${DS_PROMETHEUS} would
    // stay unresolved, so the dashboard picks its data source with its own variable.
    const dashboard = readFileSync(join(ROOT, 'deploy', 'grafana', 'predictq-dashboard.json'), 'utf8');
    expect(dashboard).not.toMatch(/\$\{DS_/);
    expect((JSON.parse(dashboard) as { templating: { list: Array<{ name: string; type: string }> } }).templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource' }),
    );
  });
});
