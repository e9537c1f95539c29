#!/usr/bin/env python3
"""torch.save a safetensors file's tensors, as the original SR-Diff and Hugging Face write weights.

Run with Debian's python3-torch (1.13):
  /usr/bin/python3 tools/pth-fixtures/safetensors_to_pth.py IN.safetensors OUT.pth [--legacy]

The state dict is an OrderedDict in the file's key order (float32 tensors, as `state_dict()` gives);
`--legacy` writes the pre-1.6 non-zip format. No safetensors package is needed: the format is an
8-byte header length, a JSON header and raw little-endian data. Used to make test fixtures of the
same weights in both formats (the tests then check both load to identical results).
"""
import json
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch

DTYPES = {'F32': np.float32, 'F16': np.float16, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = OrderedDict()
    for name, entry in sorted(((k, v) for k, v in header.items() if k != '__metadata__'), key=lambda kv: kv[1]['data_offsets'][0]):
        begin, end = entry['data_offsets']
        array = np.frombuffer(body[begin:end], dtype=DTYPES[entry['dtype']]).reshape(entry['shape'])
        out[name] = torch.from_numpy(array.copy())
    return out


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    state = read_safetensors(argv[0])
    torch.save(state, argv[1], _use_new_zipfile_serialization='--legacy' not in argv)
    print(f'{argv[1]}: {len(state)} tensors')


if __name__ == '__main__':
    main(sys.argv[1:])
