#!/usr/bin/env node
// The `predictq` command line. Settings from PREDICTQ_URL and PREDICTQ_API_KEY; `--json` output
// for scripts; exit codes in cli-context.ts.
import { Command, CommanderError } from 'commander';
import { batchCommands } from './batch-commands.js';
import { EXIT } from './cli-context.js';
import { predictCommand } from './predict-command.js';
import { usageCommand } from './usage-command.js';

const program = new Command('predictq')
  .description('predictq from the command line (PREDICTQ_URL, PREDICTQ_API_KEY)')
  .exitOverride()
  .showHelpAfterError();
predictCommand(program);
batchCommands(program);
usageCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  // Help and version are not errors; a wrong command line is.
  process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
}
