// deploy/kubernetes/: every document validates against the Kubernetes API schemas
// (kubernetes-models) or KEDA's CRD schema (@kubernetes-models/keda), has no field its kind lacks
// (the TypeScript types of the same packages), and the manifests say what
// predictq needs: probes on /health and /ready, resource requests, a memory limit above the heap
// cap the image's processes run with, a grace period longer than
// shutdown_timeout_ms, PodDisruptionBudgets that select the pods, a ScaledObject on the workers
// with a Prometheus trigger on dspy_workers_recommended (not redis-list) and a cap that
// routeCap() computes from the ConfigMap's provider limits, and a config file predictq accepts.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { createMetrics, loadConfig, routeCap, type Config } from '@predictq/core';
import { manifestTypeErrors, type ManifestType } from './utils/manifest-fields.js';
import { ROOT } from './utils/processes.js';

const DIR = join(ROOT, 'deploy', 'kubernetes');

/** The schema and type each kind is checked against; a kind not listed here fails the test. */
const KINDS: Record<string, { Model: new (data: never) => { validate(): void }; type: ManifestType }> = {
  'apps/v1 Deployment': { Model: Deployment, type: { module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' } },
  'v1 ConfigMap': { Model: ConfigMap, type: { module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' } },
  'v1 Secret': { Model: Secret, type: { module: 'kubernetes-models/v1/Secret', type: 'ISecret' } },
  'v1 Service': { Model: Service, type: { module: 'kubernetes-models/v1/Service', type: 'IService' } },
  'policy/v1 PodDisruptionBudget': { Model: PodDisruptionBudget, type: { module: 'kubernetes-models/policy/v1/PodDisruptionBudget', type: 'IPodDisruptionBudget' } },
  'keda.sh/v1alpha1 ScaledObject': { Model: ScaledObject, type: { module: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject', type: 'IScaledObject' } },
};

/** The heap cap (MiB) the producer and worker processes run with, as in the Dockerfile. */
const HEAP_CAP_MIB = 1024;

interface Doc {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const docs: Doc[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return { file, ...(d.toJS() as Omit<Doc, 'file'>) };
  }),
);
const find = (kind: string, name: string) => {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!doc) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return doc;
};

/** The config file in the ConfigMap, loaded the way the pods load it. */
function podConfig(): Config {
  const dir = mkdtempSync(join(tmpdir(), 'predictq-k8s-'));
  try {
    const path = join(dir, 'config.json');
    writeFileSync(path, find('ConfigMap', 'predictq-config').data!['config.json']!);
    return loadConfig({ PREDICTQ_CONFIG: path, REDIS_URL: find('ConfigMap', 'predictq-config').data!.REDIS_URL });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A document as written, without the file name the test adds. */
const body = ({ file: _file, ...rest }: Doc) => rest;
const mebibytes = (quantity: string) => {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`memory ${quantity}: write it in Mi or Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
};
const container = (deployment: Doc) => deployment.spec.template.spec.containers[0];

describe('deploy/kubernetes', () => {
  it('validates every document against its Kubernetes or KEDA schema', () => {
    expect(docs.length).toBeGreaterThanOrEqual(8);
    for (const doc of docs) {
      const kind = KINDS[`${doc.apiVersion} ${doc.kind}`];
      expect(kind, `${doc.file}: ${doc.apiVersion} ${doc.kind} has no schema here`).toBeDefined();
      expect(() => new kind!.Model(body(doc) as never).validate(), `${doc.file}: ${doc.kind} ${doc.metadata.name}`).not.toThrow();
    }
    // The check can fail: a wrong type is refused.
    const broken = structuredClone(body(find('Deployment', 'predictq-worker'))) as any;
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'nine';
    expect(() => new Deployment(broken).validate()).toThrow(/containerPort/);
    const badTrigger = structuredClone(body(find('ScaledObject', 'predictq-worker'))) as any;
    badTrigger.spec.triggers[0].metadata.threshold = 1;
    expect(() => new ScaledObject(badTrigger).validate()).toThrow(/threshold/);
  });

  it('has no field its kind lacks: a misspelt field is refused, as kubectl apply --validate=strict does', () => {
    const checked = docs.map((doc) => ({ label: `${doc.file}: ${doc.kind} ${doc.metadata.name}`, type: KINDS[`${doc.apiVersion} ${doc.kind}`]!.type, body: body(doc) }));
    expect(manifestTypeErrors(checked)).toEqual([]);
    // The check can fail: a misspelt probe in a Deployment, a misspelt field in the ScaledObject.
    const worker = body(find('Deployment', 'predictq-worker')) as any;
    const typo = structuredClone(worker);
    typo.spec.template.spec.containers[0].livenesProbe = typo.spec.template.spec.containers[0].livenessProbe;
    const scaled = structuredClone(body(find('ScaledObject', 'predictq-worker'))) as any;
    scaled.spec.minReplicas = 1;
    const errors = manifestTypeErrors([
      { label: 'worker', type: KINDS['apps/v1 Deployment']!.type, body: typo },
      { label: 'scaled', type: KINDS['keda.sh/v1alpha1 ScaledObject']!.type, body: scaled },
    ]);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^worker: .*livenesProbe.* does not exist in type 'IContainer'/);
    expect(errors[1]).toMatch(/^scaled: .*minReplicas.* does not exist/);
  }, 30_000);

  it('lists every manifest but the example Secret in kustomization.yaml', () => {
    const kustomization = parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect(kustomization.resources.sort()).toEqual(files.filter((f) => !f.includes('example')).sort());
  });

  it('gives producer and worker probes on /health and /ready, resource requests, and a grace period past the shutdown deadline', () => {
    const config = podConfig();
    for (const [name, port] of [
      ['predictq-producer', 3000],
      ['predictq-worker', 9464],
    ] as const) {
      const deployment = find('Deployment', name);
      const c = container(deployment);
      const named = (p: string | number) => (typeof p === 'number' ? p : c.ports.find((x: any) => x.name === p)?.containerPort);
      expect(c.livenessProbe.httpGet.path, name).toBe('/health');
      expect(c.readinessProbe.httpGet.path, name).toBe('/ready');
      expect(named(c.livenessProbe.httpGet.port), name).toBe(port);
      expect(named(c.readinessProbe.httpGet.port), name).toBe(port);
      expect(c.resources.requests.cpu, name).toBeDefined();
      expect(c.resources.requests.memory, name).toBeDefined();
      // Room for the capped heap plus what V8 keeps outside it, so the kernel does not kill a
      // process that the heap cap would have kept in bounds.
      expect(mebibytes(c.resources.limits.memory), name).toBeGreaterThanOrEqual(HEAP_CAP_MIB * 1.5);
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000, name).toBeGreaterThan(config.shutdown_timeout_ms);
      for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) expect(deployment.spec.template.metadata.labels[k], name).toBe(v);
      // The command is one the image builds.
      expect(c.command).toEqual(['node', `--max-old-space-size=${HEAP_CAP_MIB}`, `apps/${name.replace('predictq-', '')}/dist/main.js`]);
    }
  });

  it('takes keys only from the Secret and settings only from the ConfigMap, by names predictq reads', () => {
    const secret = find('Secret', 'predictq-secrets');
    const configMap = find('ConfigMap', 'predictq-config');
    const config = podConfig();
    const keyNames = new Set(['PREDICTQ_ADMIN_KEY', 'CACHE_ENCRYPTION_KEY', ...config.routes.flatMap((r) => (r.api_key_env ? [r.api_key_env] : []))]);
    for (const name of ['predictq-producer', 'predictq-worker']) {
      for (const env of container(find('Deployment', name)).env as Array<{ name: string; value?: string; valueFrom?: any }>) {
        if (env.valueFrom?.secretKeyRef) {
          expect(env.valueFrom.secretKeyRef.name, env.name).toBe('predictq-secrets');
          expect(Object.keys(secret.stringData!), env.name).toContain(env.valueFrom.secretKeyRef.key);
          expect(keyNames.has(env.name), `${name}: ${env.name} is no key predictq reads`).toBe(true);
        } else if (env.valueFrom?.configMapKeyRef) {
          expect(env.valueFrom.configMapKeyRef.name).toBe('predictq-config');
          expect(Object.keys(configMap.data!)).toContain(env.valueFrom.configMapKeyRef.key);
        } else {
          expect(['PORT', 'WORKER_METRICS_PORT', 'PREDICTQ_CONFIG'], env.name).toContain(env.name);
        }
        // No key is ever written into a manifest's plain env.
        expect(keyNames.has(env.name) && env.value !== undefined, env.name).toBe(false);
      }
    }
    expect(config.routes.map((r) => r.name)).toEqual(['fast', 'smart']);
  });

  it('routes the Service to the producer pods and guards both with a PodDisruptionBudget', () => {
    const service = find('Service', 'predictq');
    const producer = find('Deployment', 'predictq-producer');
    const labels = producer.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(service.spec.selector)) expect(labels[k]).toBe(v);
    expect(container(producer).ports.map((p: any) => p.name)).toContain(service.spec.ports[0].targetPort);
    for (const name of ['predictq-producer', 'predictq-worker']) {
      const pdb = find('PodDisruptionBudget', name);
      const podLabels = find('Deployment', name).spec.template.metadata.labels;
      for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) expect(podLabels[k], name).toBe(v);
    }
  });

  it('scales the workers with KEDA on dspy_workers_recommended, capped by what the provider limits can use', async () => {
    const scaled = find('ScaledObject', 'predictq-worker');
    expect(scaled.spec.scaleTargetRef.name).toBe(find('Deployment', 'predictq-worker').metadata.name);
    const [trigger] = scaled.spec.triggers;
    expect(scaled.spec.triggers).toHaveLength(1);
    expect(trigger.type).toBe('prometheus');
    expect(trigger.metadata.query).toBe('max(dspy_workers_recommended)');
    expect(trigger.metadata.threshold).toBe('1');
    const exported = (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    expect(exported).toContain('dspy_workers_recommended');

    // The same routeCap() the supervisor and the gauge use, at the assumed call time.
    const seconds = Number(scaled.metadata.annotations!['predictq/assumed-lm-seconds']);
    expect(seconds).toBeGreaterThan(0);
    const caps = podConfig().routes.map((route) => {
      const { cap } = routeCap({
        route: route.name, concurrency: route.concurrency, backlog: 0, active: 0, oldestWaitingS: 0, breaker: 'closed', pausedMs: 0,
        limits: route.limits, lmSeconds: seconds, defaultTokensPerCall: route.default_max_tokens,
      });
      expect(cap, `route ${route.name} has no rpm/tpm limit to derive a cap from`).not.toBeNull();
      return cap!;
    });
    expect(caps).toEqual([5, 2]);
    expect(scaled.spec.maxReplicaCount).toBe(Math.max(...caps));
    // At least one worker, so a half-open breaker's probe has someone to make it.
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(scaled.spec.fallback.replicas).toBeGreaterThanOrEqual(scaled.spec.minReplicaCount);
    expect(scaled.spec.fallback.replicas).toBeLessThanOrEqual(scaled.spec.maxReplicaCount);
  });
});
