import { TASK_STATES, type TaskStateName } from '../shared/config/resources';

/**
 * The AWS cost of one run, from the unit prices AWS publishes for US East
 * (N. Virginia), before free tiers (which a busy account may have used up).
 * External APIs' own fees (Gemini, X, Typefully) are not AWS costs and are
 * left out.
 */
export const UNIT_PRICES_USD = {
  // aws.amazon.com/lambda/pricing (Arm: $0.0000133334 per GB-second, $0.20 per 1M requests; duration "rounded up
  // to the nearest 1 ms"). Since 1 Aug 2025 the INIT phase of ZIP functions on managed runtimes is billed as well
  // (aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase).
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  // aws.amazon.com/step-functions/pricing (Standard: $0.025 per 1,000 state transitions in US East, "each retry will
  // be charged as an additional state transition"; a Map's iterations are steps too)
  stateTransition: 0.025 / 1000,
  // aws.amazon.com/s3/pricing (S3 Standard: PUT, COPY, POST, LIST $0.005 per 1,000; GET $0.0004 per 1,000;
  // "DELETE and CANCEL requests are free", as the S3 FAQ says of expiration: "As with standard delete requests")
  s3Write: 0.005 / 1000,
  s3Read: 0.0004 / 1000,
  // aws.amazon.com/dynamodb/pricing/on-demand (since Nov 2024: $0.625 per 1M WRU, $0.125 per 1M RRU)
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  // aws.amazon.com/eventbridge/pricing (Scheduler: $1.00 per 1M invocations after 14M free a month; the free
  // allowance is left out like the others)
  schedulerInvocation: 1 / 1e6,
} as const;

export interface RunUsage {
  /** Each function invocation: its memory setting and billed duration. */
  invocations: { memoryMb: number; billedMs: number }[];
  stateTransitions: number;
  s3Writes: number;
  s3Reads: number;
  dynamoWriteUnits: number;
  /** Strongly consistent reads count 2 RRU each per 4 KB. */
  dynamoReadUnits: number;
  schedulerInvocations: number;
}

export interface RunCost {
  lambda: number;
  stepFunctions: number;
  s3: number;
  dynamodb: number;
  scheduler: number;
  total: number;
}

export function modelRunCost(usage: RunUsage, prices = UNIT_PRICES_USD): RunCost {
  const gbSeconds = usage.invocations.reduce((sum, i) => sum + (i.memoryMb / 1024) * (i.billedMs / 1000), 0);
  const lambda = gbSeconds * prices.lambdaArmGbSecond + usage.invocations.length * prices.lambdaRequest;
  const stepFunctions = usage.stateTransitions * prices.stateTransition;
  const s3 = usage.s3Writes * prices.s3Write + usage.s3Reads * prices.s3Read;
  const dynamodb =
    usage.dynamoWriteUnits * prices.dynamoWriteUnit + usage.dynamoReadUnits * prices.dynamoReadUnit;
  const scheduler = usage.schedulerInvocations * prices.schedulerInvocation;
  return {
    lambda,
    stepFunctions,
    s3,
    dynamodb,
    scheduler,
    total: lambda + stepFunctions + s3 + dynamodb + scheduler,
  };
}

/** Each state's function memory (TASK_STATES.memoryMB), 256 MB for a state without one. */
export const memoryMbOf = (state: string): number =>
  (TASK_STATES[state as TaskStateName] as { memoryMB?: number } | undefined)?.memoryMB ?? 256;

/** What one run used, as the benchmark measured it. */
export interface MeasuredRun {
  /** Wall time of each task invocation, by state name. */
  taskMs: Record<string, number[]>;
  /** The most invocations of a state at once (a Map's items), each a container of its own; 1 when absent. */
  containers?: Record<string, number>;
  stateTransitions: number;
  awsCommands: { s3: Record<string, number>; dynamodb: Record<string, number> };
}

const S3_WRITES = /^(Put|Copy|List|CreateMultipart|UploadPart|CompleteMultipart)/;
const S3_FREE = /^(Delete|AbortMultipart)/;
const DYNAMO_READS = /^(Get|BatchGet|Query|Scan)/;

/**
 * The run's usage from the benchmark's measurements: each task invocation at
 * its function's memory setting, billed for its measured time, plus one INIT
 * per container (a run a few times a day finds every container cold; INIT is
 * billed since August 2025; a state run N at once starts N containers) at the
 * bundle's measured cold load. DynamoDB items
 * here are under 1 KB written and 4 KB read, so one unit per request
 * (strongly consistent reads: the upper figure).
 */
export function usageOfRun(
  run: MeasuredRun,
  memoryMbOf: (state: string) => number,
  initMsOf: (state: string) => number,
): RunUsage {
  const invocations = Object.entries(run.taskMs).flatMap(([state, times]) =>
    times.map((ms, i) => ({
      memoryMb: memoryMbOf(state),
      billedMs: Math.ceil(ms) + (i < (run.containers?.[state] ?? 1) ? Math.ceil(initMsOf(state)) : 0),
    })),
  );
  const sum = (counts: Record<string, number>, match: (name: string) => boolean) =>
    Object.entries(counts).reduce((n, [name, c]) => n + (match(name) ? c : 0), 0);
  const { s3, dynamodb } = run.awsCommands;
  return {
    invocations,
    stateTransitions: run.stateTransitions,
    s3Writes: sum(s3, (n) => S3_WRITES.test(n)),
    s3Reads: sum(s3, (n) => !S3_WRITES.test(n) && !S3_FREE.test(n)),
    dynamoWriteUnits: sum(dynamodb, (n) => !DYNAMO_READS.test(n)),
    dynamoReadUnits: sum(dynamodb, (n) => DYNAMO_READS.test(n)),
    schedulerInvocations: 1,
  };
}
