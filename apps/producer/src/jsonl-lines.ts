// The lines of a JSONL file read chunk by chunk (UTF-8 split across chunks is decoded whole),
// numbered from 1, each at most `maxLineBytes`: memory stays bounded whatever the file's size.
import { StringDecoder } from 'node:string_decoder';

export interface JsonlLine {
  number: number;
  text: string;
}

export class LineTooLongError extends Error {
  constructor(readonly line: number, readonly maxBytes: number) {
    super(`line ${line} is longer than ${maxBytes} bytes`);
  }
}

export async function* jsonlLines(chunks: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<JsonlLine> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let number = 0;
  const emit = function* (text: string): Generator<JsonlLine> {
    number += 1;
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (Buffer.byteLength(line) > maxLineBytes) throw new LineTooLongError(number, maxLineBytes);
    // Blank lines (a trailing newline, say) are not requests; they keep their number.
    if (line.trim() !== '') yield { number, text: line };
  };
  for await (const chunk of chunks) {
    const text = partial + decoder.write(chunk);
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    if (Buffer.byteLength(partial) > maxLineBytes) throw new LineTooLongError(number + 1, maxLineBytes);
    for (const part of parts) yield* emit(part);
  }
  const rest = partial + decoder.end();
  if (rest !== '') yield* emit(rest);
}
