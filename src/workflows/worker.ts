import type { Tick } from '../jobs/worker.ts';
import { runDueWorkflowSteps } from './engine.ts';
import { fireDueSchedules } from './schedule.ts';

/**
 * How long one tick runs due steps before the worker's other ticks (mail, jobs…) get their turn.
 * A time rather than a count: with 500 steps a tick, a backlog of 100,000 took 200 rounds of every
 * other tick (~16 ms a round on PostgreSQL), and the other ticks' wait now stays the same however
 * fast steps run.
 */
const STEPS_TICK_MS = 1000;

/** The workflow engine's background work, registered in src/jobs/registry.ts: schedules enroll first, then due steps run. */
export const workflowTicks: Tick[] = [fireDueSchedules, (ctx) => runDueWorkflowSteps(ctx, { limit: Infinity, forMs: STEPS_TICK_MS })];
