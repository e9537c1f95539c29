/// <reference lib="webworker" />
import { SamplingAbortedError } from '@srdiff/sde';
import { openFolder } from './model/file-source';
import { loadModel, type LoadedModel } from './model/load-model';
import type { Reply, Request } from './restore/protocol';
import { runRestore } from './restore/run-restore';
import { startRuntime } from './runtime';

/*
 * The restoration runs here, off the page's thread: models load once, each image is restored with
 * progress messages, and a cancel message aborts between sampling steps.
 */

const scope = self as unknown as DedicatedWorkerGlobalScope;
let model: LoadedModel | undefined;
let backend = '';
const running = new Map<number, AbortController>();

function reply(message: Reply, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

async function handle(request: Request): Promise<void> {
  if (request.type === 'cancel') {
    running.get(request.id)?.abort(new SamplingAbortedError(0, 0, 0, 'cancelled'));
    return;
  }
  if (request.type === 'load') {
    try {
      backend = await startRuntime(request.threads);
      await model?.dispose();
      model = undefined;
      model = await loadModel(openFolder(request.location, request.base), {
        session: { threads: request.threads, executionProviders: request.providers },
        onStatus: (text) => reply({ type: 'status', text }),
      });
      const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      const webgpuAdapter = Boolean(await gpu?.requestAdapter().catch(() => null));
      // onnxruntime-web drops a requested provider it cannot start: name the one that runs.
      const providers = model.providers.filter((p) => p !== 'webgpu' || webgpuAdapter);
      reply({
        type: 'loaded',
        info: { manifest: model.manifest, label: model.label, providers, threads: model.threads, graph: model.graph, backend, crossOriginIsolated: scope.crossOriginIsolated, webgpuAdapter },
      });
    } catch (err) {
      reply({ type: 'error', message: (err as Error).message ?? String(err) });
    }
    return;
  }
  const { id } = request;
  if (!model) {
    reply({ type: 'error', id, message: 'no model is loaded' });
    return;
  }
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const outcome = await runRestore(model, request.image, request.settings, (p) => reply({ type: 'progress', id, ...p }), controller.signal);
    reply({ type: 'done', id, image: outcome.image, values: outcome.values, ms: outcome.ms, msPerStep: outcome.msPerStep }, [outcome.image.data.buffer, outcome.values.buffer]);
  } catch (err) {
    if (controller.signal.aborted) reply({ type: 'cancelled', id });
    else reply({ type: 'error', id, message: (err as Error).message ?? String(err) });
  } finally {
    running.delete(id);
  }
}

// Requests are handled one at a time, except cancel, which must overtake the restoration it stops.
let queue = Promise.resolve();
scope.onmessage = (event: MessageEvent<Request>) => {
  if (event.data.type === 'cancel') void handle(event.data);
  else queue = queue.then(() => handle(event.data));
};
