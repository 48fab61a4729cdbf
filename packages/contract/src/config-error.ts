/** The environment, as `process.env` is: names to values. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Reads a file's text; `undefined` when it does not exist (any other failure throws). */
export type FileReader = (path: string) => string | undefined;

/**
 * A configuration that cannot be used (the plugin's ini file and
 * environment, the tunnel's environment): one line per problem, each naming
 * the key or variable and where its value came from.
 */
export class ConfigError extends Error {
  /** One line per problem. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.length === 1 ? (problems[0] ?? '') : `invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
