// Python's str.strip(), str.splitlines() and textwrap.dedent(), which DSPy's prompts are built
// with. JavaScript's trim() and split('\n') differ at the edges (\x1c-\x1f, \x85, \r), and a
// prompt that differs by one character is a different cache key and a different prompt.

// The characters str.isspace() accepts.
// eslint-disable-next-line no-control-regex -- \x1c-\x1f are whitespace to Python
const PY_SPACE = /[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
// eslint-disable-next-line no-control-regex -- \x1c-\x1e are line boundaries to Python
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

// A loop, not /\s+$/: that regex is quadratic on long inner runs of spaces, and LM text is long.
export function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PY_SPACE.test(text[start] ?? '')) start++;
  while (end > start && PY_SPACE.test(text[end - 1] ?? '')) end--;
  return text.slice(start, end);
}

export function pySplitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(LINE_BREAK);
  // A final line break ends the last line; it does not start an empty one.
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** textwrap.dedent: drop the longest common leading run of spaces/tabs; blank lines become empty. */
export function dedent(text: string): string {
  const normalized = text.replace(/^[ \t]+$/gm, '');
  let margin: string | undefined;
  for (const match of normalized.matchAll(/^([ \t]*)[^ \t\n]/gm)) {
    const indent = match[1] ?? '';
    if (margin === undefined || margin.startsWith(indent)) margin = indent;
    else if (!indent.startsWith(margin)) margin = commonPrefix(margin, indent);
  }
  if (!margin) return normalized;
  const cut = margin;
  return normalized
    .split('\n')
    .map((line) => (line.startsWith(cut) ? line.slice(cut.length) : line))
    .join('\n');
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}
