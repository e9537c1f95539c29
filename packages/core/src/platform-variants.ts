/**
 * Type checks (no runtime code; nothing imports this file): every `*.browser.ts` variant exports
 * what its Node original exports, with compatible types, because the browser build swaps one for
 * the other behind the same import (tools/tsup.base.ts, platformVariants).
 */
import type * as cores from './backend/cores';
import type * as coresBrowser from './backend/cores.browser';
import type * as requireOptional from './backend/require-optional';
import type * as requireOptionalBrowser from './backend/require-optional.browser';
import type * as selectBackend from './backend/select-backend';
import type * as selectBackendBrowser from './backend/select-backend.browser';
import type * as sha256 from './hash/sha256';
import type * as sha256Browser from './hash/sha256.browser';
import type * as ortSession from './onnx/ort-session';
import type * as ortSessionBrowser from './onnx/ort-session.browser';
import type * as wasmThreads from './ops/wasm-threads';
import type * as wasmThreadsBrowser from './ops/wasm-threads.browser';

/** Compiles only when `Browser` has every export of `Node`, each assignable to it. */
export type Matches<Node, Browser extends Node> = Browser;

export type CoreVariants = [
  Matches<typeof cores, typeof coresBrowser>,
  Matches<typeof requireOptional, typeof requireOptionalBrowser>,
  Matches<typeof selectBackend, typeof selectBackendBrowser>,
  Matches<typeof sha256, typeof sha256Browser>,
  Matches<typeof ortSession, typeof ortSessionBrowser>,
  Matches<typeof wasmThreads, typeof wasmThreadsBrowser>,
];
