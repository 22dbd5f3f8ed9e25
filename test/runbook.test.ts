// docs/runbook.md keeps up with deploy/prometheus/alerts.yml: every alert has its own section
// (a new alert without one fails here), and the operations it must cover are there.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from './utils/processes.js';

const runbook = readFileSync(join(ROOT, 'docs', 'runbook.md'), 'utf8');
const headings = [...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1]!.trim());
const alerts = (parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string }> }> }).groups
  .flatMap((g) => g.rules)
  .flatMap((r) => (r.alert ? [r.alert] : []));

describe('docs/runbook.md', () => {
  it('has a section for every alert in deploy/prometheus/alerts.yml', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(7);
    for (const alert of alerts) expect(headings, alert).toContain(alert);
  });

  it('covers rollback, draining, secret rotation, sizing and Redis failover', () => {
    for (const topic of ['Rolling back a program version', 'Draining a route', 'Rotating secrets', 'Sizing workers against provider limits', 'Redis failover']) {
      expect(headings, topic).toContain(topic);
    }
    expect(runbook).toMatch(/-X POST localhost:3000\/admin\/programs\/\w+\/rollback/);
  });

  it('links only to its own sections and files that exist', () => {
    const anchors = new Set(headings.map((h) => h.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    for (const [, target] of runbook.matchAll(/\]\(#([^)]+)\)/g)) expect(anchors.has(target!), `#${target}`).toBe(true);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const [, target] of readme.matchAll(/\]\(docs\/runbook\.md#([^)]+)\)/g)) expect(anchors.has(target!), `README: #${target}`).toBe(true);
  });
});
