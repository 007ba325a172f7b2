/**
 * How a long computation says how far it got, without knowing who listens (the CLI turns it into a
 * progress line on a terminal, src/cli/progress.ts). Called at most every few thousand items, so
 * a listener costs nothing that matters.
 */

/**
 * `phase`: what is being done (`reading events`, `storing requests` …); `done` of `total` items
 * (`total` null: not known). Within a phase `done` does not decrease, and a phase with a known
 * total ends with a call where `done === total`.
 */
export type OnProgress = (phase: string, done: number, total: number | null) => void;
