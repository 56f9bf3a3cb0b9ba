export { Outbox, OutboxError, type OutboxOptions, type OutboxRecovery } from './outbox/outbox';
