import type { ModelLocation } from './model/file-source';
import type { ModelInfo, Pixels, Reply, Request, RestoreSettings, SamplerName } from './restore/protocol';
import { describeModel } from './ui/describe-model';
import { decodeImageFile, drawPixels, encodePng } from './ui/pixels';
import { registerOfflineCache } from './ui/offline';

/*
 * The page: pick a model, drop an image, restore it in a worker with a progress bar and a cancel
 * button, compare before/after, download. `window.srdiffPage` exposes the state for tests.
 */

const DEMO_MODEL = new URL('models/demo/manifest.json', document.baseURI).href;
const SAMPLE_IMAGE = new URL('samples/hazy.png', document.baseURI).href;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = {
  modelStatus: $<HTMLDivElement>('model-status'),
  modelInfo: $<HTMLDivElement>('model-info'),
  folderRow: $<HTMLDivElement>('model-folder-row'),
  urlRow: $<HTMLDivElement>('model-url-row'),
  folder: $<HTMLInputElement>('model-folder'),
  url: $<HTMLInputElement>('model-url'),
  urlLoad: $<HTMLButtonElement>('model-url-load'),
  threads: $<HTMLSelectElement>('threads'),
  webgpu: $<HTMLInputElement>('webgpu'),
  drop: $<HTMLDivElement>('drop'),
  file: $<HTMLInputElement>('image-file'),
  sample: $<HTMLButtonElement>('sample'),
  imageInfo: $<HTMLDivElement>('image-info'),
  steps: $<HTMLInputElement>('steps'),
  seed: $<HTMLInputElement>('seed'),
  sampler: $<HTMLSelectElement>('sampler'),
  tile: $<HTMLInputElement>('tile'),
  overlap: $<HTMLInputElement>('overlap'),
  restore: $<HTMLButtonElement>('restore'),
  cancel: $<HTMLButtonElement>('cancel'),
  progress: $<HTMLProgressElement>('progress'),
  progressText: $<HTMLSpanElement>('progress-text'),
  before: $<HTMLCanvasElement>('before'),
  after: $<HTMLCanvasElement>('after'),
  divider: $<HTMLDivElement>('divider'),
  slider: $<HTMLInputElement>('slider'),
  download: $<HTMLAnchorElement>('download'),
  resultInfo: $<HTMLDivElement>('result-info'),
};

interface PageState {
  model?: ModelInfo;
  image?: Pixels & { name: string };
  restoring?: number;
  last?: { id: number; width: number; height: number; values: Float32Array; ms: number; msPerStep: number; settings: RestoreSettings; name: string };
  lastOutcome?: 'done' | 'cancelled' | 'error';
  errors: string[];
}
const state: PageState = { errors: [] };
(window as unknown as { srdiffPage: PageState }).srdiffPage = state;

let worker: Worker | undefined;
let nextId = 1;
let lastLocation: ModelLocation = { kind: 'url', url: DEMO_MODEL };
let downloadUrl: string | undefined;

function params(): URLSearchParams {
  return new URLSearchParams(location.search);
}

function setStatus(target: HTMLElement, text: string, error = false): void {
  target.textContent = text;
  target.classList.toggle('error', error);
}

function fillThreads(): void {
  const cores = navigator.hardwareConcurrency || 1;
  const choices = crossOriginIsolated ? [1, 2, 4, 8].filter((n) => n <= Math.max(1, cores)) : [1];
  const wanted = Number(params().get('threads')) || Math.min(4, choices[choices.length - 1]!);
  el.threads.replaceChildren(...choices.map((n) => new Option(String(n), String(n), false, n === wanted)));
  if (!crossOriginIsolated) el.threads.title = 'more threads need a cross-origin isolated page (COOP/COEP headers)';
}

function startWorker(): Worker {
  worker?.terminate();
  const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  w.onmessage = (event: MessageEvent<Reply>) => onReply(event.data);
  w.onerror = (event) => fail(`the restoration worker failed: ${event.message}`);
  return w;
}

function send(request: Request): void {
  worker!.postMessage(request, request.type === 'restore' ? [request.image.data.buffer] : []);
}

function loadModel(location: ModelLocation): void {
  lastLocation = location;
  state.model = undefined;
  el.restore.disabled = true;
  setStatus(el.modelStatus, 'loading the model…');
  el.modelInfo.replaceChildren();
  worker = startWorker();
  const providers = el.webgpu.checked && 'gpu' in navigator ? ['webgpu', 'wasm'] : ['wasm'];
  send({ type: 'load', location, base: document.baseURI, threads: Number(el.threads.value) || 1, providers });
}

function fail(message: string, id?: number): void {
  state.errors.push(message);
  if (id !== undefined || state.restoring !== undefined) {
    state.lastOutcome = 'error';
    finishRestore();
    setStatus(el.resultInfo, message, true);
  } else setStatus(el.modelStatus, message, true);
}

function onReply(message: Reply): void {
  switch (message.type) {
    case 'status':
      setStatus(el.modelStatus, `${message.text}…`);
      break;
    case 'loaded': {
      state.model = message.info;
      const { manifest } = message.info;
      setStatus(el.modelStatus, `ready: ${message.info.label}`);
      el.modelInfo.replaceChildren(describeModel(message.info));
      el.steps.value = params().get('steps') ?? String(manifest.sde.steps);
      el.sampler.value = manifest.sde.sampling_mode;
      updateRestoreButton();
      break;
    }
    case 'progress': {
      if (message.id !== state.restoring) break;
      const done = message.tile * message.steps + message.step;
      el.progress.max = message.steps * message.tiles;
      el.progress.value = done;
      el.progressText.textContent = `step ${message.step} of ${message.steps}` + (message.tiles > 1 ? ` · tile ${message.tile + 1} of ${message.tiles}` : '');
      break;
    }
    case 'done': {
      if (message.id !== state.restoring) break;
      const settings = currentSettings();
      state.last = { id: message.id, width: message.image.width, height: message.image.height, values: message.values, ms: message.ms, msPerStep: message.msPerStep, settings, name: state.image?.name ?? 'image' };
      state.lastOutcome = 'done';
      drawPixels(el.after, message.image);
      showSlider();
      void offerDownload(message.image, state.image?.name ?? 'image');
      setStatus(el.resultInfo, `restored ${message.image.width}×${message.image.height} in ${(message.ms / 1000).toFixed(2)} s (${message.msPerStep.toFixed(0)} ms per step)`);
      finishRestore();
      break;
    }
    case 'cancelled':
      if (message.id !== state.restoring) break;
      state.lastOutcome = 'cancelled';
      setStatus(el.resultInfo, 'cancelled');
      finishRestore();
      break;
    case 'error':
      fail(message.message, message.id);
      break;
  }
}

function currentSettings(): RestoreSettings {
  const int = (input: HTMLInputElement, name: string, min: number): number => {
    const v = Number(input.value);
    if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${input.value}"`);
    return v;
  };
  const tile = int(el.tile, 'tile', 8);
  const overlap = int(el.overlap, 'overlap', 0);
  if (overlap >= tile) throw new Error(`overlap (${overlap}) must be smaller than the tile (${tile})`);
  return { steps: int(el.steps, 'steps', 1), seed: Number.isInteger(Number(el.seed.value)) ? Number(el.seed.value) : 0, sampler: el.sampler.value as SamplerName, tile, overlap };
}

function updateRestoreButton(): void {
  el.restore.disabled = !(state.model && state.image) || state.restoring !== undefined;
}

function finishRestore(): void {
  state.restoring = undefined;
  el.cancel.disabled = true;
  updateRestoreButton();
}

function restore(): void {
  if (!state.image || !state.model) return;
  let settings: RestoreSettings;
  try {
    settings = currentSettings();
  } catch (err) {
    setStatus(el.resultInfo, (err as Error).message, true);
    return;
  }
  const id = nextId++;
  state.restoring = id;
  state.lastOutcome = undefined;
  el.restore.disabled = true;
  el.cancel.disabled = false;
  el.progress.value = 0;
  el.progressText.textContent = 'embedding the image…';
  setStatus(el.resultInfo, '');
  const { width, height, data } = state.image;
  send({ type: 'restore', id, image: { width, height, data: data.slice() }, settings });
}

async function setImage(pixels: Pixels, name: string): Promise<void> {
  state.image = { ...pixels, name };
  drawPixels(el.before, pixels);
  const blank = new Uint8ClampedArray(pixels.data.length);
  drawPixels(el.after, { width: pixels.width, height: pixels.height, data: blank });
  el.after.style.visibility = 'hidden';
  el.download.hidden = true;
  setStatus(el.imageInfo, `${name}: ${pixels.width}×${pixels.height}`);
  updateRestoreButton();
}

function showSlider(): void {
  el.after.style.visibility = 'visible';
  const pct = Number(el.slider.value);
  // The restored image shows right of the divider.
  el.after.style.clipPath = `inset(0 0 0 ${pct}%)`;
  el.divider.style.left = `${pct}%`;
}

async function offerDownload(image: Pixels, name: string): Promise<void> {
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(await encodePng(image));
  el.download.href = downloadUrl;
  el.download.download = `${name.replace(/\.[^.]+$/, '')}.restored.png`;
  el.download.hidden = false;
}

async function openImageFile(file: Blob, name: string): Promise<void> {
  try {
    await setImage(await decodeImageFile(file), name);
  } catch (err) {
    setStatus(el.imageInfo, `${name}: cannot be decoded (${(err as Error).message})`, true);
  }
}

async function readPicked(files: FileList): Promise<ModelLocation> {
  const list = await Promise.all(Array.from(files, async (f) => ({ path: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
  return { kind: 'files', files: list };
}

function wire(): void {
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="model-kind"]')) {
    radio.addEventListener('change', () => {
      el.folderRow.hidden = radio.value !== 'folder' || !radio.checked;
      el.urlRow.hidden = radio.value !== 'url' || !radio.checked;
      if (radio.checked && radio.value === 'demo') loadModel({ kind: 'url', url: DEMO_MODEL });
    });
  }
  el.folder.addEventListener('change', async () => {
    if (el.folder.files?.length) loadModel(await readPicked(el.folder.files));
  });
  el.urlLoad.addEventListener('click', () => el.url.value && loadModel({ kind: 'url', url: el.url.value }));
  el.threads.addEventListener('change', () => loadModel(lastLocation));
  el.webgpu.addEventListener('change', () => loadModel(lastLocation));
  el.file.addEventListener('change', () => el.file.files?.[0] && openImageFile(el.file.files[0], el.file.files[0].name));
  el.sample.addEventListener('click', async () => openImageFile(await (await fetch(SAMPLE_IMAGE)).blob(), 'hazy.png'));
  el.drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    el.drop.classList.add('over');
  });
  el.drop.addEventListener('dragleave', () => el.drop.classList.remove('over'));
  el.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    el.drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void openImageFile(file, file.name);
  });
  el.restore.addEventListener('click', restore);
  el.cancel.addEventListener('click', () => state.restoring !== undefined && send({ type: 'cancel', id: state.restoring }));
  el.slider.addEventListener('input', showSlider);
}

fillThreads();
el.webgpu.checked = params().get('webgpu') === '1';
wire();
registerOfflineCache();
const modelParam = params().get('model');
loadModel({ kind: 'url', url: modelParam ? new URL(modelParam, document.baseURI).href : DEMO_MODEL });
