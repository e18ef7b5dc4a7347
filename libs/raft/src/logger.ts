/** Where the library reports noteworthy events. The default discards everything. */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

function discard(_msg: string): void {
  // intentionally silent
}

export const silentLogger: Logger = { debug: discard, info: discard, warn: discard, error: discard };
