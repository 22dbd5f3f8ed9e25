// A label whose values are not (yet) a configured set, kept bounded anyway: the first `max`
// distinct values pass, later ones become "other". Null becomes "none".
export class BoundedLabel {
  readonly #seen = new Set<string>();
  readonly #max: number;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError('BoundedLabel: max must be a positive integer');
    this.#max = max;
  }

  of(value: string | null | undefined): string {
    if (value === null || value === undefined || value === '') return 'none';
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.#max) return 'other';
    this.#seen.add(value);
    return value;
  }
}
