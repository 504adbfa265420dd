import type { Feature } from '../types.js';

export const loadShedding: Feature = {
  id: 'load-shedding',
  title: 'Load shedding',
  description:
    'Answers 503 + Retry-After at once while the event loop lags or the heap is nearly full; /readyz turns 503, liveness stays up.',
  appModule: true,
  env: () => [
    {
      name: 'SHED_MAX_EVENT_LOOP_DELAY_MS',
      example: '200',
      comment:
        'Shed new requests while the longest event-loop delay of the last sample is above this (ms). 0 turns the check off.',
    },
    {
      name: 'SHED_MAX_EVENT_LOOP_UTILIZATION',
      example: '0',
      comment:
        'Shed while the loop was busy more than this share of the last sample (0 to 1, such as 0.98). Default 0: off (a saturated loop of short tasks is busy yet fast).',
    },
    {
      name: 'SHED_MAX_HEAP_USED_RATIO',
      example: '0.9',
      comment: "Shed while the heap used is above this share of V8's heap limit (0 to 1). 0: off.",
    },
    {
      name: 'SHED_SAMPLE_INTERVAL_MS',
      example: '100',
      comment: 'How often the load is sampled (ms).',
    },
    {
      name: 'SHED_RETRY_AFTER_SECONDS',
      example: '1',
      comment: 'The Retry-After of a shed 503 (seconds).',
    },
  ],
};
