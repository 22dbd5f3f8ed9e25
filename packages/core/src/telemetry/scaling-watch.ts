// The autoscaling gauges' source, read when Prometheus scrapes (a gauge's collect()): the
// producer attaches its scaling signal; a process without one reports none of these series.
// Label values: configured route names and the supervisor's mode (auto, fixed).
import type { Gauge } from 'prom-client';

export interface ScalingSource {
  /** Per route: jobs ready to run, and the workers recommended for it. */
  routes(): Promise<Array<{ route: string; backlog: number; workers: number }>>;
  /** What the local supervisor reports, or null when none runs. */
  supervisor(): Promise<{ mode: 'auto' | 'fixed'; desired: number; running: number } | null>;
}

export class ScalingWatch {
  #source: ScalingSource | undefined;

  /** Reports `source` from now on; the returned function stops it. */
  watch(source: ScalingSource): () => void {
    this.#source = source;
    return () => {
      if (this.#source === source) this.#source = undefined;
    };
  }

  async collectRoutes(gauge: Gauge<'route'>, pick: 'backlog' | 'workers'): Promise<void> {
    if (!this.#source) return;
    try {
      const routes = await this.#source.routes();
      for (const r of routes) gauge.set({ route: r.route }, r[pick]);
    } catch {
      // Redis unreachable: keep the last values rather than failing the whole scrape.
    }
  }

  async collectSupervisor(gauge: Gauge<'mode'>, pick: 'desired' | 'running'): Promise<void> {
    if (!this.#source) return;
    try {
      const status = await this.#source.supervisor();
      gauge.reset();
      if (status) gauge.set({ mode: status.mode }, status[pick]);
    } catch {
      // as above
    }
  }
}
