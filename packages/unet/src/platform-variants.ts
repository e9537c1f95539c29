/**
 * Type checks (no runtime code; nothing imports this file): every `*.browser.ts` variant exports
 * what its Node original exports, because the browser build swaps one for the other behind the
 * same import (tools/tsup.base.ts, platformVariants).
 */
import type * as io from './io';
import type * as ioBrowser from './io.browser';
import type * as readModelBytes from './onnx/read-model-bytes';
import type * as readModelBytesBrowser from './onnx/read-model-bytes.browser';

/** Compiles only when `Browser` has every export of `Node`, each assignable to it. */
export type Matches<Node, Browser extends Node> = Browser;

export type UnetVariants = [Matches<typeof io, typeof ioBrowser>, Matches<typeof readModelBytes, typeof readModelBytesBrowser>];
