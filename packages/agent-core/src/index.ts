export { Outbox, OutboxError, type OutboxOptions, type OutboxRecovery } from './outbox/outbox';
export { cutEvidence, maskText, sensitiveSpans, type Evidence } from './transform/evidence';
export { toEvent, type Identity, type Observation, type Scored } from './transform/to-event';
