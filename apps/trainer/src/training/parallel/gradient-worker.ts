/**
 * Entry point of a gradient worker thread (bundled as dist/gradient-worker.js): its own TensorFlow.js
 * engine and wasm instance, a replica of the ConditionalUNet, and one job — the matching loss and
 * its gradients for the batch shard it is sent, with the weights the main thread published.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend, disposeGradients } from '@srdiff/core';
import { IRSDE } from '@srdiff/sde';
import { ConditionalUNet } from '@srdiff/unet';
import { matchingLossGradients, shareOf } from '../diffusion-loss';
import type { GradientWorkerInit, StepRequest, WorkerReply } from './protocol';
import { assignVariables, batchFromHost, disposeBatch, flatLayout, writeGradients } from './shared-tensors';

const port = parentPort!;
const init = workerData as GradientWorkerInit;
const reply = (message: WorkerReply) => port.postMessage(message);

async function main(): Promise<void> {
  // One wasm thread per worker: the workers themselves are the parallelism.
  await selectBackend(init.backend, { wasmThreads: 1 });
  const model = new ConditionalUNet(init.unet);
  const sde = new IRSDE(init.sde);
  const variables = model.trainableVariables();
  const layout = flatLayout(variables);
  if (layout.names.join('\n') !== init.names.join('\n')) {
    throw new Error(`gradient worker ${init.index}: its network's parameters differ from the main thread's (config mismatch)`);
  }
  const parameters = new Float32Array(init.parameters);
  const gradients = new Float32Array(init.gradients);
  port.on('message', (request: StepRequest) => {
    try {
      assignVariables(variables, layout, parameters);
      const batch = batchFromHost(request.batch);
      try {
        const { loss, grads } = matchingLossGradients(model, sde, batch, shareOf(init.loss, request.share));
        const present = writeGradients(grads, layout, gradients);
        disposeGradients(grads);
        reply({ type: 'gradients', id: request.id, loss, present });
      } finally {
        disposeBatch(batch);
      }
    } catch (err) {
      reply({ type: 'error', id: request.id, message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined });
    }
  });
  reply({ type: 'ready' });
}

main().catch((err: unknown) => reply({ type: 'error', message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined }));
