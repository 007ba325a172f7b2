/**
 * The registry of built-in profiles: name → profile document, plain data in the user profile
 * format (`xtrace profiles --show NAME` prints one as JSON, a starting point for your own). They
 * are validated like user files when loaded (../load.ts).
 */
import type { ProfileInput } from '../schema.js';
import { block, ioUring, linuxAio, linuxBlock } from './linux-block.js';
import { xenBlkback, xenBlktap2, xenBlktap3, xenQdisk } from './xen.js';

export const BUILTIN_PROFILES: Readonly<Record<string, ProfileInput>> = {
  'linux-block': linuxBlock,
  io_uring: ioUring,
  'linux-aio': linuxAio,
  block,
  'xen-blkback': xenBlkback,
  'xen-blktap2': xenBlktap2,
  'xen-blktap3': xenBlktap3,
  'xen-qdisk': xenQdisk,
};
