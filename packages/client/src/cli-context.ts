// What every command shares: the client from the environment, how to print, how to exit.
import { PredictqClient } from './client.js';
import { PredictqClientError } from './errors.js';

/** Exit codes: the work is done (0), done but not all of it succeeded (1), the command line was
 * wrong (2), predictq could not be reached or refused the request (3), interrupted (130). */
export const EXIT = { ok: 0, partial: 1, usage: 2, api: 3, interrupted: 130 } as const;

export function clientFromEnv(env: NodeJS.ProcessEnv = process.env): PredictqClient {
  return new PredictqClient({ baseUrl: env.PREDICTQ_URL || 'http://127.0.0.1:3000', apiKey: env.PREDICTQ_API_KEY || undefined });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Runs a command's body; API and connection failures print one line and exit 3. */
export async function run(body: () => Promise<number>): Promise<void> {
  let code: number;
  try {
    code = await body();
  } catch (err) {
    if (err instanceof PredictqClientError) {
      process.stderr.write(`predictq: ${err.code} (${err.status}): ${err.message}\n`);
    } else if (err instanceof TypeError && err.message === 'fetch failed') {
      // fetch's own words for a connection that never came to be.
      const cause = (err.cause as { code?: string; message?: string } | undefined) ?? {};
      process.stderr.write(`predictq: cannot reach predictq at ${process.env.PREDICTQ_URL || 'http://127.0.0.1:3000'} (${cause.code ?? cause.message ?? 'no answer'}); set PREDICTQ_URL\n`);
    } else {
      process.stderr.write(`predictq: ${(err as Error).message}\n`);
    }
    code = EXIT.api;
  }
  process.exitCode = code;
}
