/** The time source every mechanism and stage takes, so tests can inject a fake one. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
