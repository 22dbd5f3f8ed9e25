// Budget windows: the UTC day and the UTC month, their ids and when they reset.

export const BUDGET_WINDOWS = ['daily', 'monthly'] as const;
export type BudgetWindow = (typeof BUDGET_WINDOWS)[number];

/** "2025-01-31" for the UTC day of `ms`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
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
