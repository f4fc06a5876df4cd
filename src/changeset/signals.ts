/**
 * One place that decides what Ctrl-C and SIGTERM do. Before an apply, they run the cleanups
 * (release the repo lock) and exit; during an apply they wait until it has finished or rolled
 * back, so an interrupt never leaves half a change.
 */
const cleanups = new Set<() => void>();
let deferring = 0;
/** The exit code an interrupt that came in during an apply will exit with. */
let pending: number | undefined;
let installed = false;

const EXIT_CODE: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

function exitWith(code: number): never {
  for (const c of cleanups) c();
  process.exit(code);
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.on(sig, () => stopWhenSafe(EXIT_CODE[sig] ?? 1));
}

/**
 * End the process as an interrupt does: now, or once an apply under way has finished or been
 * undone. For what ends a run from outside other than a signal (the reader of its output left).
 */
export function stopWhenSafe(code: number): void {
  install();
  if (deferring > 0) pending ??= code;
  else exitWith(code);
}

/** Run `fn` on interrupt or exit; returns a function that unregisters it. */
export function onInterrupt(fn: () => void): () => void {
  install();
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/**
 * Hold interrupts while `fn` runs; act on one that came in once it is done. An interrupt that
 * came in before is acted on first: a signal reaches its handler only when the event loop polls
 * for I/O, and staging a change is synchronous work that never lets it, so the loop polls here,
 * where a Ctrl-C still cancels everything. Two turns: the first immediate may run in the
 * iteration under way, whose poll is already past; the second runs after the next poll.
 */
export async function deferInterrupts<T>(fn: () => Promise<T>): Promise<T> {
  install();
  for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
  deferring++;
  try {
    return await fn();
  } finally {
    deferring--;
    if (deferring === 0 && pending !== undefined) exitWith(pending);
  }
}
