// Starts the LM simulator from environment settings; see README.md.
import { readSimEnv } from './env.js';
import { startSim } from './start-sim.js';

const SHUTDOWN_GRACE_MS = 5_000;

function settingsOrExit(): ReturnType<typeof readSimEnv> {
  try {
    return readSimEnv(process.env);
  } catch (error) {
    console.error(`lm-sim: invalid setting ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

const sim = await startSim(settingsOrExit());
console.log(`lm-sim listening on ${sim.url}`);

const shutdown = (signal: NodeJS.Signals): void => {
  console.log(`lm-sim: ${signal}, shutting down`);
  void sim.close(SHUTDOWN_GRACE_MS).then(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
