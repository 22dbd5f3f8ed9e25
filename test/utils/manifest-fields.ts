// Unknown fields in Kubernetes manifests, found with the TypeScript types kubernetes-models
// ships: each document becomes an object literal typed as its kind, and the compiler's
// excess-property check names any field the API does not have. kubernetes-models' own
// validate() checks types and required fields but lets unknown fields through, which is where a
// typo such as `livenesProbe` would hide (kubectl apply --validate=strict refuses those).
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from './processes.js';

/** A manifest's kind and the module and interface that type it. */
export interface ManifestType {
  module: string;
  type: string;
}

/** One message per document with a field its type lacks (or a value of the wrong type). */
export function manifestTypeErrors(docs: Array<{ label: string; type: ManifestType; body: unknown }>): string[] {
  const fileName = join(ROOT, 'test', '.manifests.generated.ts');
  const key = (t: ManifestType) => `${t.module}#${t.type}`;
  const types = new Map<string, ManifestType>(docs.map((d) => [key(d.type), d.type]));
  const alias = new Map([...types.keys()].map((k, i) => [k, `T${i}`]));
  const imports = [...types].map(([k, t]) => `import type { ${t.type} as ${alias.get(k)} } from '${t.module}';`);
  // One document per line, so a diagnostic's line names its document.
  const lines = docs.map((d, i) => `export const doc${i}: ${alias.get(key(d.type))} = ${JSON.stringify(d.body)};`);
  const source = [...imports, ...lines].join('\n');

  const options: ts.CompilerOptions = {
    strict: true, noEmit: true, skipLibCheck: true, types: [],
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    name === fileName ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === fileName ? source : readFile(name));

  const program = ts.createProgram([fileName], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (d.file?.fileName !== fileName || d.start === undefined) return message;
    const line = d.file.getLineAndCharacterOfPosition(d.start).line - imports.length;
    return `${docs[line]?.label ?? 'imports'}: ${message}`;
  });
}
