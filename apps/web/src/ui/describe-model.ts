import type { ModelInfo } from '../restore/protocol';

/** What the loaded model is, in plain words: its description, then the facts the manifest records. */
export function describeModel(info: ModelInfo): HTMLElement {
  const { manifest } = info;
  const c = manifest.unet.config;
  const root = document.createElement('div');
  const notice = document.createElement('div');
  notice.className = 'notice';
  notice.textContent = manifest.description;
  notice.id = 'model-description';
  root.append(notice);
  const facts: Array<[string, string]> = [
    ['network', `ConditionalUNet, nf ${c.nf}, ch_mult [${(c.ch_mult ?? []).join(', ')}], context_dim ${c.context_dim} (${manifest.unet.format === 'onnx' ? 'ONNX graph' : 'weights; graph built in this page'})`],
    ['IR-SDE', `max_sigma ${manifest.sde.max_sigma}, T ${manifest.sde.T}, ${manifest.sde.schedule}, eps ${manifest.sde.eps}; ${manifest.sde.sampling_mode} sampling in ${manifest.sde.steps} steps by default`],
    ['semantic guidance', manifest.vlm ? `${manifest.vlm.family.toUpperCase()} '${manifest.vlm.id}' (${manifest.vlm.width} wide)${manifest.srm ? ', refined by the SRM' : ', no SRM (raw embedding)'}` : 'none'],
    ['runtime', `onnxruntime-web on ${info.providers[0]}${info.providers[0] === 'wasm' && !info.webgpuAdapter ? ' (no WebGPU adapter here)' : ''} (${info.threads} thread${info.threads === 1 ? '' : 's'}${info.crossOriginIsolated ? '' : ', page not cross-origin isolated'}); sampler arithmetic on TensorFlow.js ${info.backend}`],
    ['files', `${Object.keys(manifest.files).length}, ${(Object.values(manifest.files).reduce((a, f) => a + f.bytes, 0) / 1e6).toFixed(1)} MB, each checked against its SHA-256`],
  ];
  const dl = document.createElement('dl');
  for (const [k, v] of facts) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dl.append(dt, dd);
  }
  root.append(dl);
  return root;
}
