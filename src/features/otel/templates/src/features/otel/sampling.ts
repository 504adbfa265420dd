import { SpanKind, trace, TraceFlags, type Context } from '@opentelemetry/api';
import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import type { SamplerName } from './settings.js';

/**
 * Sampling happens in two places, so that a request that will not be traced costs next to
 * nothing. With a `parentbased_*` sampler (the default), whether a request without a caller's
 * trace context is traced is drawn before any span work (`serverShare`, in server-spans.ts), and
 * its SERVER span, when chosen, is then sampled here. Every other span goes by the standard
 * OTEL_TRACES_SAMPLER rules.
 */

type Sampler = NonNullable<NodeSDKConfiguration['sampler']>;
type SamplingResult = ReturnType<Sampler['shouldSample']>;

const SAMPLED: SamplingResult = { decision: 2 }; // RECORD_AND_SAMPLED
const DROPPED: SamplingResult = { decision: 0 }; // NOT_RECORD

/** The share of root requests (and other root spans) traced under each sampler. */
export function rootRatio(sampler: SamplerName, ratio: number): number {
  if (sampler.endsWith('always_on')) return 1;
  if (sampler.endsWith('always_off')) return 0;
  return ratio;
}

/**
 * The share of requests without a caller's trace context whose SERVER span is started: drawn up
 * front with a `parentbased_*` sampler; with the others every request asks the sampler.
 */
export function serverShare(sampler: SamplerName, ratio: number): number {
  return sampler.startsWith('parentbased_') ? rootRatio(sampler, ratio) : 1;
}

/**
 * The sampler of OTEL_TRACES_SAMPLER: `parentbased_*` follows the parent span's decision;
 * without a parent (or not parent-based) the root rule decides, by the trace id so that every
 * service of a trace decides alike. Parent-based, a SERVER span without a parent is sampled:
 * its request was already drawn (`serverShare`); drawing again would trace ratio² of them.
 * Any other span without a parent, inside a request, is that of a request not drawn: dropped.
 */
export class RequestSampler implements Sampler {
  private readonly parentBased: boolean;
  private readonly ratio: number;

  /** `inRequest`: whether the caller is handling an HTTP request (see shouldSample). */
  constructor(
    sampler: SamplerName,
    ratio: number,
    private readonly inRequest: () => boolean = () => false,
  ) {
    this.parentBased = sampler.startsWith('parentbased_');
    this.ratio = rootRatio(sampler, ratio);
  }

  shouldSample(context: Context, traceId: string, _name: string, kind: SpanKind): SamplingResult {
    const parent = trace.getSpanContext(context);
    if (parent !== undefined && this.parentBased) {
      return (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? SAMPLED : DROPPED;
    }
    if (parent === undefined && this.parentBased) {
      if (kind === SpanKind.SERVER) return SAMPLED;
      // Inside a request, a span without a parent belongs to a request that was not drawn (a
      // drawn one is the parent of everything in it): not traced either.
      if (this.inRequest()) return DROPPED;
    }
    // The trace id's last 8 hex digits are random (W3C trace context): a number in [0, 1).
    return Number.parseInt(traceId.slice(-8), 16) / 2 ** 32 < this.ratio ? SAMPLED : DROPPED;
  }

  toString(): string {
    return `RequestSampler{parentBased=${this.parentBased}, ratio=${this.ratio}}`;
  }
}
