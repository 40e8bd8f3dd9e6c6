/**
 * Fault injection for the sandbox servers: fail the k-th matching call with a
 * 429, a 500 or a hang, or let the side effect happen and then drop the
 * connection before the answer reaches the caller (the "unknown outcome").
 */
export type FaultKind = 'rate-limit' | 'server-error' | 'timeout' | 'drop-after-effect';

export interface FaultRule {
  kind: FaultKind;
  /** HTTP method to match; any when absent. */
  method?: string;
  /** Substring or pattern of the path to match; any when absent. */
  path?: string | RegExp;
  /** Text the request's body must hold (one batch's message id among concurrent requests); any when absent. */
  bodyIncludes?: string;
  /** Fail the n-th matching call (1-based), counted from when the rule was added. Default 1. */
  nth?: number;
  /** How many consecutive matching calls fail from the n-th on. Default 1. */
  times?: number;
  /** Seconds a rate-limit answer asks the caller to wait. Default 1. */
  retryAfterSeconds?: number;
}

export interface InjectedFault {
  kind: FaultKind;
  retryAfterSeconds: number;
}

export interface CallRecord {
  method: string;
  path: string;
  fault?: FaultKind;
}

interface ActiveRule extends FaultRule {
  seen: number;
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  /** Every call the server received, in order: the benchmark and the tests count them. */
  readonly calls: CallRecord[] = [];

  add(rule: FaultRule): this {
    this.rules.push({ ...rule, seen: 0 });
    return this;
  }

  clear(): void {
    this.rules = [];
  }

  resetCalls(): void {
    this.calls.length = 0;
  }

  /** Called by the server for each request; returns the fault to act out, if any. */
  next(method: string, path: string, bodyText: () => string = () => ''): InjectedFault | undefined {
    let fault: InjectedFault | undefined;
    for (const rule of this.rules) {
      if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (rule.path && !(typeof rule.path === 'string' ? path.includes(rule.path) : rule.path.test(path)))
        continue;
      if (rule.bodyIncludes !== undefined && !bodyText().includes(rule.bodyIncludes)) continue;
      rule.seen += 1;
      const first = rule.nth ?? 1;
      const last = first + (rule.times ?? 1) - 1;
      if (!fault && rule.seen >= first && rule.seen <= last) {
        fault = { kind: rule.kind, retryAfterSeconds: rule.retryAfterSeconds ?? 1 };
      }
    }
    this.calls.push({ method, path, ...(fault ? { fault: fault.kind } : {}) });
    return fault;
  }

  count(method: string, path: string | RegExp): number {
    return this.calls.filter(
      (c) => c.method === method && (typeof path === 'string' ? c.path.includes(path) : path.test(c.path)),
    ).length;
  }
}
