/**
 * Block-layer vocabulary shared by the stages: the data direction of an `rwbs` string as the
 * block tracepoints print it (`RS` read sync, `WS`, `FWS` flush then write, `RA` readahead,
 * `D` discard, `F` a flush alone).
 */
export function rwbsOp(rwbs: string): string | undefined {
  const m = /[RWDEN]/.exec(rwbs);
  return m ? m[0] : rwbs.startsWith('F') ? 'F' : undefined;
}
