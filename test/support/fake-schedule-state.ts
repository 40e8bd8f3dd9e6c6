import type { RunStatus, ScheduleEvent, ScheduleState, ScheduleStateStore } from '../../shared/ports';

/** In-memory ScheduleStateStore with the DynamoDB adapter's rules (test/aws/dynamo-schedule-state.test.ts). */
export class FakeScheduleStates implements ScheduleStateStore {
  readonly states = new Map<string, ScheduleState>();
  readonly events: (ScheduleEvent & { key: string })[] = [];

  async get(pipelineId: string, scheduleName: string): Promise<ScheduleState> {
    return (
      this.states.get(`${pipelineId}/${scheduleName}`) ?? {
        pipelineId,
        scheduleName,
        state: 'enabled',
        consecutiveFailures: 0,
      }
    );
  }

  private async put(pipelineId: string, scheduleName: string, next: Partial<ScheduleState>) {
    const state = { ...(await this.get(pipelineId, scheduleName)), ...next };
    for (const [k, v] of Object.entries(state))
      if (v === undefined) delete (state as Record<string, unknown>)[k];
    this.states.set(`${pipelineId}/${scheduleName}`, state);
    return state;
  }

  async pause(
    pipelineId: string,
    scheduleName: string,
    change: { by: string; reason?: string; until?: string; at: string },
  ) {
    this.events.push({ key: `${pipelineId}/${scheduleName}`, action: 'paused', ...change });
    return this.put(pipelineId, scheduleName, {
      state: 'paused',
      changedBy: change.by,
      changedAt: change.at,
      reason: change.reason,
      pausedUntil: change.until,
    });
  }

  async resume(
    pipelineId: string,
    scheduleName: string,
    change: { by: string; reason?: string; at: string },
  ) {
    this.events.push({ key: `${pipelineId}/${scheduleName}`, action: 'resumed', ...change });
    return this.put(pipelineId, scheduleName, {
      state: 'enabled',
      changedBy: change.by,
      changedAt: change.at,
      reason: change.reason,
      pausedUntil: undefined,
      consecutiveFailures: 0,
    });
  }

  async recordRunOutcome(
    pipelineId: string,
    scheduleName: string,
    outcome: { runId: string; status: RunStatus; at: string },
    maxConsecutiveFailures: number,
  ) {
    const before = await this.get(pipelineId, scheduleName);
    const lastRun = { runId: outcome.runId, status: outcome.status, at: outcome.at };
    if (outcome.status !== 'failed') {
      const counted = outcome.status === 'succeeded' || outcome.status === 'partial';
      const state = await this.put(pipelineId, scheduleName, {
        lastRun,
        ...(counted ? { consecutiveFailures: 0 } : {}),
      });
      return { state, autoPaused: false };
    }
    const failures = before.consecutiveFailures + 1;
    const tips = before.state === 'enabled' && failures >= maxConsecutiveFailures;
    const reason = `paused after ${failures} failed runs in a row (last: ${outcome.runId})`;
    const state = await this.put(pipelineId, scheduleName, {
      lastRun,
      consecutiveFailures: failures,
      ...(tips ? { state: 'paused' as const, reason, changedBy: 'digest', changedAt: outcome.at } : {}),
    });
    if (tips)
      this.events.push({
        key: `${pipelineId}/${scheduleName}`,
        action: 'auto-paused',
        by: 'digest',
        reason,
        at: outcome.at,
      });
    return { state, autoPaused: tips };
  }

  async history(pipelineId: string, scheduleName: string, limit: number) {
    return this.events
      .filter((e) => e.key === `${pipelineId}/${scheduleName}`)
      .reverse()
      .slice(0, limit)
      .map(({ key: _key, ...event }) => event);
  }
}
