// No Docker engine runs here, so this checks docker-compose.yml statically: valid YAML of the
// expected shape, and every build context, Dockerfile and command refers to something real.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '@predictq/core';
import { ROOT } from './utils/processes.js';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  deploy?: { replicas?: number };
  depends_on?: Record<string, unknown>;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const KNOWN_ENV = new Set([
  'REDIS_URL', 'PORT', 'OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_MODEL', 'LM_SIM_PORT', 'LM_SIM_HOST',
  'WORKER_METRICS_PORT', 'PREDICTQ_CONFIG', 'PREDICTQ_ADMIN_KEY', 'LOG_LEVEL',
]);

describe('docker-compose.yml', () => {
  it('has redis with AOF, the simulator, the producer and two worker replicas', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['lm-sim', 'producer', 'redis', 'worker']);
    expect(s.redis!.command).toContain('--appendonly');
    expect(s.redis!.command![s.redis!.command!.indexOf('--appendonly') + 1]).toBe('yes');
    expect(s.worker!.deploy?.replicas).toBe(2);
    expect(Object.keys(s.producer!.depends_on ?? {})).toContain('redis');
  });

  it('builds from this repo and runs commands that the build produces', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/npm run build/);
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.image) continue;
      expect(service.build, name).toBe('.');
      const [bin, ...args] = service.command ?? [];
      expect(bin, name).toBe('node');
      // Node's own flags (the heap cap) come before the script.
      const script = args.find((a) => !a.startsWith('--'));
      // dist/main.js is compiled from src/main.ts by `npm run build`.
      const source = script!.replace('/dist/', '/src/').replace(/\.js$/, '.ts');
      expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true);
    }
  });

  it('sets only environment variables predictq reads, with values its config accepts', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const key of Object.keys(service.environment ?? {})) expect(KNOWN_ENV.has(key), `${name}: ${key}`).toBe(true);
    }
    const env = compose.services.producer!.environment!;
    const parsed = ConfigSchema.safeParse({
      redis_url: env.REDIS_URL,
      port: Number(env.PORT),
      routes: [{ name: 'default', model: 'sim-small', base_url: 'http://lm-sim:3100/v1' }],
    });
    expect(parsed.success).toBe(true);
  });
});
