import { describe, expect, it } from 'vitest';
import { parsePreferWait } from './wait-for-job.js';

describe('Prefer: wait', () => {
  it('reads whole seconds, capped at the maximum, among other preferences', () => {
    expect(parsePreferWait(undefined, 60)).toBe(0);
    expect(parsePreferWait('respond-async', 60)).toBe(0);
    expect(parsePreferWait('wait=10', 60)).toBe(10);
    expect(parsePreferWait('respond-async, wait=5', 60)).toBe(5);
    expect(parsePreferWait('wait=600', 60)).toBe(60);
    expect(parsePreferWait('wait=0', 60)).toBe(0);
  });

  it('refuses a wait that is not a whole number of seconds with invalid_request', () => {
    for (const header of ['wait=-1', 'wait=abc', 'wait=1.5', 'wait=', 'wait=1e3']) {
      expect(() => parsePreferWait(header, 60), header).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    }
  });
});
