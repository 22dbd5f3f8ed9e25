// `predictq predict "question -> answer" question="..." [flags]`: one prediction, waited for.
import type { Command } from 'commander';
import { EXIT, clientFromEnv, printJson, run } from './cli-context.js';

/** `name=text` gives a string; `name:=json` a JSON value (numbers, lists, objects). */
export function parseInputs(pairs: readonly string[]): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const pair of pairs) {
    const json = /^([A-Za-z_][A-Za-z0-9_]*):=(.*)$/s.exec(pair);
    const text = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (json) {
      try {
        inputs[json[1]!] = JSON.parse(json[2]!);
      } catch {
        throw new Error(`${json[1]}:= needs a JSON value, got ${json[2]}`);
      }
    } else if (text) {
      inputs[text[1]!] = text[2]!;
    } else {
      throw new Error(`inputs are name=text or name:=json, got "${pair}"`);
    }
  }
  return inputs;
}

export function predictCommand(program: Command): void {
  program
    .command('predict')
    .description('run one prediction and print its outputs')
    .argument('<signature>', 'a DSPy signature such as "question -> answer" (or a program name with --program)')
    .argument('[inputs...]', 'input fields: name=text, or name:=json')
    .option('--program', 'the first argument names a configured program, not a signature')
    .option('--model <model>', 'a route or model')
    .option('--wait <seconds>', 'how long to wait for the answer', '60')
    .option('--json', 'print the prediction object as JSON')
    .action((signature: string, pairs: string[], options: { program?: boolean; model?: string; wait: string; json?: boolean }) =>
      run(async () => {
        let inputs: Record<string, unknown>;
        try {
          inputs = parseInputs(pairs);
        } catch (err) {
          process.stderr.write(`predictq: ${(err as Error).message}\n`);
          return EXIT.usage;
        }
        const request = { ...(options.program ? { program: signature } : { signature }), inputs, ...(options.model ? { model: options.model } : {}) };
        const prediction = await clientFromEnv().predict(request, Number(options.wait) || 60);
        if (options.json) printJson(prediction);
        else if (prediction.status === 'succeeded') {
          for (const [name, value] of Object.entries(prediction.outputs ?? {})) process.stdout.write(`${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
        } else if (prediction.error) {
          process.stderr.write(`predictq: the prediction ${prediction.status}: ${prediction.error.code}: ${prediction.error.message}\n`);
        } else {
          process.stderr.write(`predictq: not finished within ${options.wait} s; read it later with its id ${prediction.id}\n`);
        }
        return prediction.status === 'succeeded' ? EXIT.ok : EXIT.partial;
      }),
    );
}
