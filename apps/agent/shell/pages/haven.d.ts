// `window.haven`, as the preload exposes it, for the pages' scripts (checked with // @ts-check).
import type { HavenBridge } from '../../src/shell/ipc';

declare global {
  // A global augmentation has to be an interface.
  // eslint-disable-next-line @typescript-eslint/consistent-type-definitions
  interface Window {
    haven?: HavenBridge;
  }
}

export {};
