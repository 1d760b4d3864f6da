// What validating the environment reports besides a plan: problems (nothing starts) and advice (it starts).

export interface Problem {
  variable: string;
  /** Only ever the value of one of the supervisor's own variables. */
  value: string;
  expected: string;
}

/** A valid value that works against the program: reported, not refused. */
export interface Advice {
  variable: string;
  value: string;
  advice: string;
}
