import { describe, expect, it } from 'vitest';
import { modelRunCost, usageOfRun } from '../../bench/cost-model';

describe('the run cost model', () => {
  it('adds Lambda GB-seconds and requests, state transitions, S3, DynamoDB and Scheduler at their unit prices', () => {
    // Act: seven 1 s invocations at 512 MB, 20 transitions, 6 S3 writes, 4 reads, 10 WRU, 8 RRU, one delivery.
    const cost = modelRunCost({
      invocations: Array.from({ length: 7 }, () => ({ memoryMb: 512, billedMs: 1000 })),
      stateTransitions: 20,
      s3Writes: 6,
      s3Reads: 4,
      dynamoWriteUnits: 10,
      dynamoReadUnits: 8,
      schedulerInvocations: 1,
    });

    // Assess
    expect(cost.lambda).toBeCloseTo(3.5 * 0.0000133334 + 7 * 0.0000002, 12);
    expect(cost.stepFunctions).toBeCloseTo(0.0005, 12);
    expect(cost.s3).toBeCloseTo(0.00003 + 0.0000016, 12);
    expect(cost.dynamodb).toBeCloseTo(0.00000625 + 0.000001, 12);
    expect(cost.scheduler).toBeCloseTo(0.000001, 12);
    expect(cost.total).toBeCloseTo(
      cost.lambda + cost.stepFunctions + cost.s3 + cost.dynamodb + cost.scheduler,
      15,
    );
  });
});

describe('the usage of a measured run', () => {
  it('bills each invocation at its memory, one INIT per function, and sorts S3 and DynamoDB requests', () => {
    // Prepare: Analyze ran twice (a continuation), Upload once, AnalyzeBatch three times, two at once;
    // S3 and DynamoDB commands as counted.
    const run = {
      taskMs: { Upload: [120.2], Analyze: [900, 400.5], AnalyzeBatch: [1000, 1000, 1000] },
      containers: { AnalyzeBatch: 2 },
      stateTransitions: 30,
      awsCommands: {
        s3: { PutObjectCommand: 3, GetObjectCommand: 5, CopyObjectCommand: 2, DeleteObjectCommand: 2 },
        dynamodb: { PutCommand: 2, UpdateCommand: 6, GetCommand: 4, QueryCommand: 1 },
      },
    };

    // Act
    const usage = usageOfRun(
      run,
      (state) => (state === 'Analyze' ? 1024 : 256),
      (state) => (state === 'Analyze' ? 140.4 : 90),
    );

    // Assess
    expect(usage.invocations).toEqual([
      { memoryMb: 256, billedMs: 121 + 90 },
      { memoryMb: 1024, billedMs: 900 + 141 },
      { memoryMb: 1024, billedMs: 401 },
      // Two containers, each with its INIT; the third invocation is warm.
      { memoryMb: 256, billedMs: 1090 },
      { memoryMb: 256, billedMs: 1090 },
      { memoryMb: 256, billedMs: 1000 },
    ]);
    // Deletes are free (the S3 pricing page): counted neither as writes nor as reads.
    expect(usage).toMatchObject({
      stateTransitions: 30,
      s3Writes: 5,
      s3Reads: 5,
      dynamoWriteUnits: 8,
      dynamoReadUnits: 5,
      schedulerInvocations: 1,
    });
  });
});
