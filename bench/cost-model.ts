/**
 * The AWS cost of one run, from the unit prices AWS publishes for US East
 * (N. Virginia), before free tiers (which a busy account may have used up).
 * External APIs' own fees (Gemini, X, Typefully) are not AWS costs and are
 * left out.
 */
export const UNIT_PRICES_USD = {
  // aws.amazon.com/lambda/pricing (Arm: $0.0000133334 per GB-second, $0.20 per 1M requests)
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  // aws.amazon.com/step-functions/pricing (Standard: $0.025 per 1,000 state transitions, retries included)
  stateTransition: 0.025 / 1000,
  // aws.amazon.com/s3/pricing (S3 Standard: PUT, COPY, POST, LIST $0.005 per 1,000; GET $0.0004 per 1,000)
  s3Write: 0.005 / 1000,
  s3Read: 0.0004 / 1000,
  // aws.amazon.com/dynamodb/pricing/on-demand (since Nov 2024: $0.625 per 1M WRU, $0.125 per 1M RRU)
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  // aws.amazon.com/eventbridge/pricing (Scheduler: $1.00 per 1M invocations, 14M free per month)
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
