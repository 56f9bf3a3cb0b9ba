import { PROTOCOL_VERSION, type HelloOk } from '@haven/protocol';
import type { Credential } from '../../src/link/credential';

/**
 * The collector's side of the protocol, for suites that play it themselves on a real
 * WebSocket server: one device and school, and the answers a real collector gives.
 */
export const TEST_DEVICE_ID = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
export const TEST_SCHOOL_ID = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c';

/** A device credential as enrolment leaves it, for a collector at `collector`. */
export function testCredential(collector: string, deviceId = TEST_DEVICE_ID): Credential {
  return { deviceId, deviceSecret: 'hvn_dev_test', schoolId: TEST_SCHOOL_ID, protocol: PROTOCOL_VERSION, agentPath: '/agent', collector };
}

/** What a collector answers to a good hello. */
export function helloOk(deviceId: string): HelloOk {
  return {
    type: 'hello-ok',
    protocol: PROTOCOL_VERSION,
    deviceId,
    schoolId: TEST_SCHOOL_ID,
    serverTime: new Date().toISOString(),
    heartbeatIntervalSeconds: 60,
    limits: { maxFrameBytes: 262144, maxEventsPerBatch: 500 },
  };
}
