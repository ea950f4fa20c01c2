import type { Tick } from '../jobs/worker.ts';
import { runDueWorkflowSteps } from './engine.ts';
import { fireDueSchedules } from './schedule.ts';

/** The workflow engine's background work, registered in src/jobs/registry.ts: schedules enroll first, then due steps run. */
export const workflowTicks: Tick[] = [fireDueSchedules, (ctx) => runDueWorkflowSteps(ctx)];
