/**
 * tfjs-core ships no gradients in its CommonJS bundle; the `@tensorflow/tfjs` union package
 * registers them by bundling `register_all_gradients` (ESM sources). We do the same, without the
 * union's layers/converter/webgl baggage: tsup bundles this import into @srdiff/core. The bundled
 * copies register into tfjs's global gradient registry, so they serve the one shared engine.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
