/**
 * The commands of `xtrace`, in the order its help lists them: one file each, each a function
 * that builds its commander Command. A new command is a new file here and one line in this list
 * (and its section in the README: test/guards/docs.test.ts checks it).
 */
import type { Command } from 'commander';
import { ingestCommand } from './ingest.js';
import { summaryCommand } from './summary.js';
import { reportCommand } from './report.js';
import { queryCommand } from './query.js';
import { compareCommand } from './compare.js';
import { historyCommand } from './history.js';
import { simulateCommand } from './simulate.js';
import { profilesCommand } from './profiles.js';
import { exportCommand } from './export.js';
import { chartCommand } from './chart.js';
import { recordCommand } from './record.js';

export const COMMANDS: readonly (() => Command)[] = [recordCommand, ingestCommand, summaryCommand, reportCommand, exportCommand, queryCommand, compareCommand, historyCommand, chartCommand, simulateCommand, profilesCommand];
