/**
 * Peak memory of a run of `messageCount` messages. This version measures the
 * whole in-process pipeline (state machine, every handler, the embedded S3 and
 * DynamoDB and the sandbox servers in one Node process) and returns it under
 * `pipeline`: the whole-process figure, an upper bound for any one step. The
 * per-step version (each handler's bundle in its own process) replaces it.
 */
import { benchPipeline } from './pipeline';

export async function measureStepMemory(messageCount: number): Promise<Record<string, number>> {
  const run = await benchPipeline(messageCount, { fast: true });
  return { pipeline: run.peakRssMiB };
}
