/**
 * Layers: where a stage's time is spent, for pictures that put a bare-metal path next to a Xen
 * one (`xtrace chart`, the HTML report's colours). A point may say where the time from it to the
 * next point of the path goes (`layer`, e.g. the block request's issue: the device); otherwise a
 * stage between two points of one role is spent in that role's layer (guest → guest kernel;
 * dom0, host, main → host kernel; user → userspace) and a stage between two roles is a hand-off
 * (event channel, ring, wake-up). A merged stage (batched) has its spans' layer when they agree,
 * else it is a hand-off.
 */
import type { ProfilePoint } from './schema.js';

/** The layers, in the order pictures stack and list them. */
export const LAYERS = ['guest-kernel', 'handoff', 'host-kernel', 'userspace', 'device', 'other'] as const;
export type Layer = (typeof LAYERS)[number];

/** For people: what each layer holds. */
export const LAYER_LABELS: Record<Layer, string> = {
  'guest-kernel': 'guest kernel',
  handoff: 'hand-off between layers (event channel, ring, wake-up)',
  'host-kernel': 'host / dom0 kernel',
  userspace: 'userspace back end',
  device: 'device (and the block layer below the back end)',
  other: 'other',
};

const ROLE_LAYERS: Record<string, Layer> = { guest: 'guest-kernel', dom0: 'host-kernel', host: 'host-kernel', main: 'host-kernel', user: 'userspace' };

/** The layer of the stage from point `from` to point `to` (consecutive in the path). */
export function stageLayer(from: Pick<ProfilePoint, 'role' | 'layer'>, to: Pick<ProfilePoint, 'role'>): Layer {
  if (from.layer) return from.layer;
  if (from.role !== to.role) return 'handoff';
  return ROLE_LAYERS[from.role] ?? 'other';
}

/** The layer of a row of the breakdown: its split stages' (the path's points from `fromIndex` to `toIndex`). */
export function rowLayer(path: readonly Pick<ProfilePoint, 'role' | 'layer'>[], fromIndex: number, toIndex: number): Layer {
  let layer: Layer | null = null;
  for (let p = fromIndex; p < toIndex; p++) {
    const l = stageLayer(path[p]!, path[p + 1]!);
    if (layer !== null && l !== layer) return 'handoff';
    layer = l;
  }
  return layer ?? 'other';
}

/** The layer of each split stage of a path (`from->to` → layer), for readers of stored requests. */
export function stageLayers(path: readonly Pick<ProfilePoint, 'name' | 'role' | 'layer'>[]): Map<string, Layer> {
  const out = new Map<string, Layer>();
  for (let p = 0; p + 1 < path.length; p++) out.set(`${path[p]!.name}->${path[p + 1]!.name}`, stageLayer(path[p]!, path[p + 1]!));
  return out;
}
