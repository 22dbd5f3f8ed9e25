// Starts the simulator on a port (a free one by default) for tests, benchmarks and main.ts.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSimApp } from './create-sim.js';
import type { SimOptions } from './options.js';
import type { SimState } from './sim-state.js';

export interface StartSimOptions extends SimOptions {
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
}

export interface RunningSim {
  /** Base URL for OpenAI clients, ending in /v1. */
  url: string;
  port: number;
  host: string;
  state: SimState;
  /**
   * Stops listening, gives open requests up to `graceMs` (default 0) to finish, then ends the
   * rest, hanging ones included.
   */
  close(graceMs?: number): Promise<void>;
}

export async function startSim(options: StartSimOptions = {}): Promise<RunningSim> {
  const { port = 0, host = '127.0.0.1', ...simOptions } = options;
  const { app, state } = createSimApp(simOptions);
  const server = createServer(app);
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  const close = (graceMs = 0): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const deadline = Date.now() + graceMs; state.stats.snapshot().in_flight > 0 && Date.now() < deadline; ) {
        await sleep(20);
      }
      state.abortPending();
      server.closeAllConnections();
      await closed;
    })();
    return closing;
  };

  return { url: `http://${urlHost}:${address.port}/v1`, port: address.port, host, state, close };
}
