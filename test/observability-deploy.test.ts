// deploy/: the alert rules pass promtool's checks and unit tests, the example Prometheus config
// is valid, and every query of the rules and the Grafana dashboard names a metric that
// createMetrics() really registers (so renaming or dropping a metric fails here). The README's
// Observability section lists every metric too.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '@predictq/core';
import { ROOT } from './utils/processes.js';

const PROMETHEUS = join(ROOT, 'deploy', 'prometheus');
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'predictq-dashboard.json');
/** Made by Prometheus itself for every scrape target. */
const PROMETHEUS_MADE = new Set(['up']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

function promtool(args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: PROMETHEUS, encoding: 'utf8' });
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Every series name the code exports, histogram and summary children included. */
async function exportedNames(): Promise<Set<string>> {
  const metrics = createMetrics();
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    const type = String(m.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

/** Grafana's variables, replaced by something PromQL accepts. */
function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)/g, '5m').replace(/\$\{?\w+\}?/g, '.*');
}

/** The metric names a PromQL expression selects. */
export function metricNames(expr: string): string[] {
  const bare = withoutGrafanaVariables(expr)
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const match of bare.matchAll(/(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = bare.slice(match.index + match[0].length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(match[0].toLowerCase())) continue;
    names.push(match[0]);
  }
  return names;
}

interface Panel {
  title?: string;
  type: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: { query: string } | string }> };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const dashboardExprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? p.type, expr: t.expr })));
const alertRules = (parse(readFileSync(join(PROMETHEUS, 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups.flatMap(
  (g) => g.rules,
);

describe('deploy/prometheus', () => {
  it('passes promtool check rules, the rule unit tests and check config', () => {
    const check = promtool(['check', 'rules', 'alerts.yml']);
    expect(check.status, check.output).toBe(0);
    const tests = promtool(['test', 'rules', 'alerts.test.yml']);
    expect(tests.status, tests.output).toBe(0);
    expect(tests.output).toContain('SUCCESS');
    const config = promtool(['check', 'config', 'prometheus.yml']);
    expect(config.status, config.output).toBe(0);
  });

  it('alerts on error rate, breaker open, budget near and over, backlog age and workers down', () => {
    expect(alertRules.map((r) => r.alert).sort()).toEqual(
      [
        'PredictqBacklogTooOld',
        'PredictqBudgetExhausted',
        'PredictqBudgetNearLimit',
        'PredictqCircuitBreakerOpen',
        'PredictqHighErrorRate',
        'PredictqNoWorkers',
        'PredictqWorkerDown',
      ].sort(),
    );
    // Each alert has at least one promtool unit test case.
    const tests = readFileSync(join(PROMETHEUS, 'alerts.test.yml'), 'utf8');
    for (const rule of alertRules) expect(tests, rule.alert).toContain(`alertname: ${rule.alert}`);
  });

  it('refers only to metrics the code exports', async () => {
    const exported = await exportedNames();
    for (const rule of alertRules) {
      const names = metricNames(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names) expect(exported.has(name) || PROMETHEUS_MADE.has(name), `${rule.alert}: ${name}`).toBe(true);
    }
  });
});

describe('deploy/grafana dashboard', () => {
  it('has the throughput, latency, cache, cost, breaker, queue and per-variant panels', () => {
    const all = dashboardExprs.map((e) => e.expr).join('\n');
    for (const metric of [
      'dspy_predictions_total',
      'dspy_prediction_duration_seconds_bucket',
      'dspy_cache_hits_total',
      'dspy_cost_usd_total',
      'dspy_circuit_breaker_open',
      'dspy_queue_jobs',
      'dspy_variant_predictions_total',
    ]) {
      expect(all, metric).toContain(metric);
    }
    expect(all).toMatch(/histogram_quantile\(0\.99/);
    expect(panels.filter((p) => p.title?.startsWith('Variant')).length).toBeGreaterThanOrEqual(3);
  });

  it('refers only to metrics the code exports, in every query and variable', async () => {
    const exported = await exportedNames();
    expect(dashboardExprs.length).toBeGreaterThan(20);
    for (const { panel, expr } of dashboardExprs) {
      const names = metricNames(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exported.has(name) || PROMETHEUS_MADE.has(name), `${panel}: ${name}`).toBe(true);
    }
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const query = typeof variable.query === 'string' ? variable.query : variable.query!.query;
      const metric = /^label_values\(([A-Za-z_:][A-Za-z0-9_:]*),/.exec(query)?.[1];
      expect(metric, variable.name).toBeDefined();
      expect(exported.has(metric!), `$${variable.name}: ${metric}`).toBe(true);
    }
  });

  it('holds only valid PromQL (checked by promtool as recording rules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'predictq-dashboard-'));
    try {
      const rules = dashboardExprs
        .map((e, i) => `      - record: dashboard_query_${i}\n        expr: ${JSON.stringify(withoutGrafanaVariables(e.expr))}`)
        .join('\n');
      writeFileSync(join(dir, 'queries.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
      const run = spawnSync('promtool', ['check', 'rules', join(dir, 'queries.yml')], { encoding: 'utf8' });
      expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds metric names the way PromQL reads them', () => {
    expect(metricNames('sum by (le, route) (rate(dspy_x_bucket{route=~"$route"}[$__rate_interval])) / on(route) up')).toEqual(['dspy_x_bucket', 'up']);
    expect(metricNames('histogram_quantile(0.95, a) and bool b offset 5m')).toEqual(['a', 'b']);
  });
});

describe('README', () => {
  it('lists every exported dspy_ metric in its Observability section', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('## Observability');
    expect(start).toBeGreaterThanOrEqual(0);
    const next = readme.indexOf('\n## ', start + 1);
    const section = readme.slice(start, next < 0 ? undefined : next);
    const metrics = await createMetrics().registry.getMetricsAsJSON();
    for (const m of metrics.filter((x) => x.name.startsWith('dspy_'))) expect(section, m.name).toContain(`\`${m.name}`);
    for (const variable of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_TRACES_EXPORTER', 'log_payloads']) expect(section).toContain(variable);
  });
});
