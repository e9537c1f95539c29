import type { Worker } from 'node:worker_threads';
import type { StepRequest, WorkerReply } from './protocol';

interface Pending {
  id: number;
  resolve: (reply: { loss: number; present: number[] }) => void;
  reject: (err: Error) => void;
}

/** One worker thread and its single in-flight request. */
export class GradientWorker {
  readonly gradients: Float32Array;
  private pending?: Pending;
  private failure?: Error;
  private ready: Promise<void>;

  constructor(private readonly worker: Worker, readonly index: number, gradients: SharedArrayBuffer) {
    this.gradients = new Float32Array(gradients);
    this.ready = new Promise((resolve, reject) => {
      worker.on('message', (m: WorkerReply) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'gradients' && this.pending?.id === m.id) this.settle((p) => p.resolve({ loss: m.loss, present: m.present }));
        else if (m.type === 'error') {
          const err = new Error(`gradient worker ${index}: ${m.message}`);
          if (m.stack) err.stack = `${err.message}\n${m.stack}`;
          if (m.id === undefined) this.fail(err, reject);
          else this.settle((p) => p.reject(err));
        }
      });
      worker.on('error', (err) => this.fail(new Error(`gradient worker ${index} crashed: ${err.message}`), reject));
      worker.on('exit', (code) => this.fail(new Error(`gradient worker ${index} exited (code ${code})`), reject));
    });
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  request(id: number, request: Omit<StepRequest, 'type' | 'id'>): Promise<{ loss: number; present: number[] }> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { id, resolve, reject };
      this.worker.postMessage({ type: 'step', id, ...request } satisfies StepRequest);
    });
  }

  terminate(): Promise<number> {
    this.failure ??= new Error(`gradient worker ${this.index} was closed`);
    return this.worker.terminate();
  }

  private settle(f: (p: Pending) => void): void {
    const p = this.pending;
    this.pending = undefined;
    if (p) f(p);
  }

  private fail(err: Error, rejectReady: (err: Error) => void): void {
    if (this.failure) return;
    this.failure = err;
    rejectReady(err);
    this.settle((p) => p.reject(err));
  }
}

