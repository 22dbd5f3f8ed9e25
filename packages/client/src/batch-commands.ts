// `predictq batch run|list|get|cancel|download`: async batches from a JSONL file (OpenAI's batch
// line format), watched with a progress bar, results downloaded when done.
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { batchProgress } from './batch-progress.js';
import { EXIT, clientFromEnv, printJson, run } from './cli-context.js';
import type { PredictqClient } from './client.js';
import { FINAL_BATCH_STATUSES, type Batch } from './types.js';

const POLL_MS = 1000;

/** The endpoint a file's lines name (its first line's url). */
async function endpointOf(path: string): Promise<string | undefined> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      try {
        return (JSON.parse(line) as { url?: string }).url;
      } catch {
        return undefined;
      }
    }
    return undefined;
  } finally {
    lines.close();
  }
}

/** Where the error lines go: beside the output, as `<name>.errors.jsonl`. */
export function errorsPath(output: string): string {
  return output.replace(/(\.jsonl)?$/, '.errors.jsonl');
}

async function download(client: PredictqClient, batch: Batch, output: string): Promise<{ output?: string; errors?: string }> {
  const written: { output?: string; errors?: string } = {};
  if (batch.output_file_id) {
    await pipeline(await client.fileContent(batch.output_file_id), createWriteStream(output));
    written.output = output;
  }
  if (batch.error_file_id) {
    const path = errorsPath(output);
    await pipeline(await client.fileContent(batch.error_file_id), createWriteStream(path));
    written.errors = path;
  }
  return written;
}

function exitOf(batch: Batch): number {
  return batch.status === 'completed' && batch.request_counts.failed === 0 ? EXIT.ok : EXIT.partial;
}

function summary(batch: Batch): string {
  const { total, completed, failed } = batch.request_counts;
  const errors = batch.errors?.data?.slice(0, 5).map((e) => `\n  line ${e.line ?? '-'}: ${e.code}: ${e.message}`).join('') ?? '';
  return `batch ${batch.id} ${batch.status}: ${completed} of ${total} succeeded, ${failed} failed, $${(batch.cost_usd ?? 0).toFixed(6)}${errors}\n`;
}

/** Asks on the terminal; no terminal means no. */
async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function batchCommands(program: Command): void {
  const batch = program.command('batch').description('async batches: run a JSONL file, list, get, cancel, download');

  batch
    .command('run')
    .description('upload a JSONL file, run it as a batch with a live progress bar, and download the results')
    .argument('<input>', 'JSONL file of {custom_id, method, url, body} lines')
    .requiredOption('-o, --output <path>', 'where the output lines go (error lines go to <path>.errors.jsonl)')
    .option('--endpoint <endpoint>', '/v1/chat/completions or /v1/predictions (default: the first line\'s url)')
    .option('--window <window>', 'completion window: 24h, or shorter such as 1h', '24h')
    .option('--json', 'print the final batch object as JSON (no progress bar)')
    .action((input: string, options: { output: string; endpoint?: string; window: string; json?: boolean }) =>
      run(async () => {
        const client = clientFromEnv();
        const endpoint = options.endpoint ?? (await endpointOf(input));
        if (!endpoint) {
          process.stderr.write('predictq: cannot tell the endpoint from the first line; pass --endpoint\n');
          return EXIT.usage;
        }
        const file = await client.uploadFile(input);
        let current = await client.createBatch({ input_file_id: file.id, endpoint, completion_window: options.window });
        const progress = batchProgress(Boolean(process.stdout.isTTY) && !options.json);
        let interrupted = false;
        const onInterrupt = () => {
          interrupted = true;
        };
        process.on('SIGINT', onInterrupt);
        try {
          while (!FINAL_BATCH_STATUSES.includes(current.status)) {
            progress.update(current);
            if (interrupted) {
              interrupted = false;
              progress.stop();
              if (await confirm(`\ncancel batch ${current.id}? [y/N] `)) {
                current = await client.cancelBatch(current.id);
              } else {
                process.stderr.write(`the batch keeps running: predictq batch get ${current.id}; predictq batch download ${current.id} -o ${options.output}\n`);
                return EXIT.interrupted;
              }
            }
            await sleep(POLL_MS);
            current = await client.getBatch(current.id);
          }
          progress.update(current);
        } finally {
          progress.stop();
          process.off('SIGINT', onInterrupt);
        }
        const written = await download(client, current, options.output);
        if (options.json) printJson({ ...current, downloaded: written });
        else process.stderr.write(summary(current) + (written.output ? `output: ${written.output}\n` : '') + (written.errors ? `errors: ${written.errors}\n` : ''));
        return exitOf(current);
      }),
    );

  batch
    .command('list')
    .description('the newest batches')
    .option('--limit <n>', 'how many', '20')
    .option('--after <id>', 'the page after this batch')
    .option('--json', 'print JSON')
    .action((options: { limit: string; after?: string; json?: boolean }) =>
      run(async () => {
        const page = await clientFromEnv().listBatches({ limit: Number(options.limit) || 20, ...(options.after ? { after: options.after } : {}) });
        if (options.json) printJson(page);
        else for (const b of page.data) process.stdout.write(`${b.id}  ${b.status.padEnd(11)}  ${b.request_counts.completed + b.request_counts.failed}/${b.request_counts.total}  ${b.endpoint}\n`);
        return EXIT.ok;
      }),
    );

  batch
    .command('get')
    .argument('<id>')
    .description('one batch')
    .option('--json', 'print JSON')
    .action((id: string, options: { json?: boolean }) =>
      run(async () => {
        const found = await clientFromEnv().getBatch(id);
        if (options.json) printJson(found);
        else process.stdout.write(summary(found));
        return EXIT.ok;
      }),
    );

  batch
    .command('cancel')
    .argument('<id>')
    .description('cancel a batch: waiting requests are dropped, the partial output kept')
    .option('--json', 'print JSON')
    .action((id: string, options: { json?: boolean }) =>
      run(async () => {
        const cancelled = await clientFromEnv().cancelBatch(id);
        if (options.json) printJson(cancelled);
        else process.stdout.write(summary(cancelled));
        return EXIT.ok;
      }),
    );

  batch
    .command('download')
    .argument('<id>')
    .requiredOption('-o, --output <path>', 'where the output lines go (error lines go to <path>.errors.jsonl)')
    .option('--json', 'print JSON')
    .description("a finished batch's output and error files")
    .action((id: string, options: { output: string; json?: boolean }) =>
      run(async () => {
        const client = clientFromEnv();
        const found = await client.getBatch(id);
        if (!FINAL_BATCH_STATUSES.includes(found.status)) {
          process.stderr.write(`predictq: batch ${id} is ${found.status}; its files exist once it ends\n`);
          return EXIT.partial;
        }
        const written = await download(client, found, options.output);
        if (options.json) printJson({ ...found, downloaded: written });
        else process.stderr.write(summary(found));
        return exitOf(found);
      }),
    );
}
