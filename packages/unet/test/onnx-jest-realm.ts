/**
 * Jest runs tests in a separate V8 realm whose `Float32Array` differs from the one onnxruntime-node's
 * native binding creates output arrays with, so onnxruntime-common's `data instanceof Float32Array`
 * check fails on every output ("A float32 tensor's data must be type of function Float32Array()").
 * jestjs/jest#11864. Outside jest there is one realm and nothing needs patching. This makes the
 * test realm's typed-array constructors recognise arrays of any realm by their brand.
 */
const TYPED_ARRAYS = [Float32Array, Float64Array, Int32Array, Int8Array, Uint16Array, Int16Array, BigInt64Array, BigUint64Array, Uint8ClampedArray];

export function acceptTypedArraysFromAnyRealm(): void {
  for (const ctor of TYPED_ARRAYS) {
    const tag = `[object ${ctor.name}]`;
    if (Object.prototype.hasOwnProperty.call(ctor, Symbol.hasInstance)) continue;
    Object.defineProperty(ctor, Symbol.hasInstance, {
      value: (v: unknown) => Object.prototype.toString.call(v) === tag,
      configurable: true,
    });
  }
}
