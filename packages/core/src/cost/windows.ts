// Budget windows: the UTC day and the UTC month, their ids and when they reset.

export const BUDGET_WINDOWS = ['daily', 'monthly'] as const;
export type BudgetWindow = (typeof BUDGET_WINDOWS)[number];

const DAY_MS = 86_400_000;
/** The last day asked for: every settlement asks, nearly always for today. */
let lastDay = { start: 0, end: 0, id: '1970-01-01' };

/** "2025-01-31" for the UTC day of `ms`. */
export function utcDay(ms: number): string {
  if (ms >= lastDay.start && ms < lastDay.end) return lastDay.id;
  const start = Math.floor(ms / DAY_MS) * DAY_MS;
  const id = new Date(ms).toISOString().slice(0, 10);
  lastDay = { start, end: start + DAY_MS, id };
  return id;
}

/** "2025-01" (monthly) or "2025-01-31" (daily): the window's period containing `ms`. */
export function periodOf(window: BudgetWindow, ms: number): string {
  return window === 'daily' ? utcDay(ms) : utcDay(ms).slice(0, 7);
}

/** When the window containing `ms` ends (ms since epoch, UTC). */
export function resetsAt(window: BudgetWindow, ms: number): number {
  const d = new Date(ms);
  return window === 'daily'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Days from `from` to `to` inclusive ("YYYY-MM-DD"), oldest first. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) days.push(utcDay(t));
  return days;
}
