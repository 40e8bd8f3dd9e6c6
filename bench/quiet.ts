/**
 * Imported first by the benchmarks: Powertools reads POWERTOOLS_METRICS_DISABLED
 * when a Metrics is constructed, at module scope, so setting it inside a
 * benchmark is too late and its EMF documents land in the table's output.
 */
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
