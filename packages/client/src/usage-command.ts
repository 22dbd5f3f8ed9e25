// `predictq usage`: the API key's own tokens and USD (GET /v1/usage).
import type { Command } from 'commander';
import { EXIT, clientFromEnv, printJson, run } from './cli-context.js';

export function usageCommand(program: Command): void {
  program
    .command('usage')
    .description("the API key's usage: tokens, USD and cache savings, month to date unless told otherwise")
    .option('--from <day>', 'first UTC day, YYYY-MM-DD')
    .option('--to <day>', 'last UTC day, YYYY-MM-DD')
    .option('--group-by <group>', 'model, route, variant or day', 'model')
    .option('--json', 'print JSON')
    .action((options: { from?: string; to?: string; groupBy: string; json?: boolean }) =>
      run(async () => {
        const report = await clientFromEnv().usage({ from: options.from, to: options.to, group_by: options.groupBy });
        if (options.json) {
          printJson(report);
          return EXIT.ok;
        }
        process.stdout.write(`usage ${report.from} to ${report.to} by ${report.group_by}\n`);
        for (const row of [...report.groups, { key: 'total', ...report.total }]) {
          process.stdout.write(`${row.key.padEnd(24)} ${String(row.requests).padStart(8)} calls ${String(row.total_tokens).padStart(10)} tokens  $${row.cost_usd.toFixed(6)}  (${row.cache_hits} cache hits saved $${row.saved_usd.toFixed(6)})\n`);
        }
        return EXIT.ok;
      }),
    );
}
