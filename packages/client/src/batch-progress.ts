// The live view of a running batch: a progress bar (cli-progress) on a terminal, with what is
// done and failed, the rate, the ETA and the cost so far; plain status lines on stderr otherwise.
import cliProgress from 'cli-progress';
import type { Batch } from './types.js';

export interface BatchProgress {
  update(batch: Batch): void;
  stop(): void;
}

export function batchProgress(tty: boolean): BatchProgress {
  if (!tty) {
    let last = '';
    return {
      update(batch) {
        const { total, completed, failed } = batch.request_counts;
        const line = `${batch.id} ${batch.status} ${completed + failed}/${total}`;
        if (batch.status !== last.split(' ')[1]) process.stderr.write(`${line}\n`);
        last = line;
      },
      stop() {},
    };
  }
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      format: '{bar} {percentage}% | {value}/{total} | {status} | ok {completed} failed {failed} | {rate}/s | ETA {eta_formatted} | ${cost}',
      hideCursor: true,
      etaBuffer: 50,
      stream: process.stdout,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    update(batch) {
      const { total, completed, failed } = batch.request_counts;
      const done = completed + failed;
      const payload = {
        status: batch.status,
        completed,
        failed,
        rate: (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1),
        cost: (batch.cost_usd ?? 0).toFixed(6),
      };
      if (!running) {
        bar.start(Math.max(total, 1), done, payload);
        running = true;
      }
      if (total > 0) bar.setTotal(total);
      bar.update(done, payload);
    },
    stop() {
      if (running) bar.stop();
    },
  };
}
