#!/usr/bin/env python3
"""Extra torch.save fixtures for @srdiff/core's .pth reader (edge cases and hostile files).

Run with Debian's python3-torch (1.13):  /usr/bin/python3 tools/pth-fixtures/make_pth_fixtures.py
Writes packages/core/test/fixtures/pth-extra/: the files and expected.json, which gives for each
valid file its structure (the tree format of the shared `pth` reference set) and every tensor's
values (floats as JSON numbers, "nan"/"inf"/"-inf" spelled out, int64 as decimal strings), and for
each hostile file the words its error must contain. Tests read only the generated files; Python is
needed only to regenerate them.
"""
import io
import json
import os
import pickle
import struct
import sys
import zipfile
from collections import OrderedDict

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'packages', 'core', 'test', 'fixtures', 'pth-extra')
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)
expected = {'torch': torch.__version__, 'valid': {}, 'hostile': {}}


def structure(v):
    if isinstance(v, torch.Tensor):
        return {'tensor': True, 'dtype': str(v.dtype).replace('torch.', ''), 'shape': list(v.shape), 'stride': list(v.stride()),
                'storage_offset': v.storage_offset(), 'storage_numel': v.storage().size()}
    if isinstance(v, dict):
        return {'dict': [[k if not isinstance(k, tuple) else {'tuple': list(k)}, structure(x)] for k, x in v.items()]}
    if isinstance(v, list):
        return {'list': [structure(x) for x in v]}
    if isinstance(v, tuple):
        return {'tuple': [structure(x) for x in v]}
    if isinstance(v, torch.device):
        return {'value': str(v)}
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2 ** 53:
        return {'bigint': str(v)}
    return {'value': v}


def number(x):
    if isinstance(x, int):
        return str(x)
    if x != x:
        return 'nan'
    if x in (float('inf'), float('-inf')):
        return 'inf' if x > 0 else '-inf'
    return x


def values(v, prefix, out):
    if isinstance(v, torch.Tensor):
        flat = v.contiguous().reshape(-1)
        if v.dtype in (torch.float16, torch.bfloat16):
            flat = flat.float()
        out[prefix] = [number(x) for x in flat.tolist()]
    elif isinstance(v, dict):
        for k, x in v.items():
            values(x, f'{prefix}/{k}', out)
    elif isinstance(v, (list, tuple)):
        for i, x in enumerate(v):
            values(x, f'{prefix}/{i}', out)
    return out


def save_valid(name, obj, **kwargs):
    path = os.path.join(OUT, name)
    torch.save(obj, path, **kwargs)
    back = torch.load(path)
    expected['valid'][name] = {'save_kwargs': {k: v for k, v in kwargs.items() if k != 'pickle_module'}, 'structure': structure(back), 'values': values(back, name, {})}
    return path


def hostile(name, data, must_contain, note):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
    expected['hostile'][name] = {'error_contains': must_contain, 'what': note}


def torch_zip(prefix, pickle_bytes, storages, byteorder=None, compression=zipfile.ZIP_STORED):
    """A zip laid out as torch.save's: <prefix>/data.pkl, <prefix>/data/<key>, <prefix>/version."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', compression) as z:
        z.writestr(f'{prefix}/data.pkl', pickle_bytes)
        if byteorder:
            z.writestr(f'{prefix}/byteorder', byteorder)
        for key, data in storages.items():
            z.writestr(f'{prefix}/data/{key}', data)
        z.writestr(f'{prefix}/version', '3\n')
    return buf.getvalue()


class Call:
    """Pickles as REDUCE(fn, args)."""
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


class Storage:
    """A persistent id ('storage', torch.<cls>, key, 'cpu', numel)."""
    def __init__(self, cls, key, numel):
        self.cls, self.key, self.numel = cls, key, numel


class CraftingPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ('storage', obj.cls, obj.key, 'cpu', obj.numel)
        return None


def crafted(obj):
    buf = io.BytesIO()
    CraftingPickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def tensor(storage, offset, size, stride):
    return Call(torch._utils._rebuild_tensor_v2, (storage, offset, tuple(size), tuple(stride), False, OrderedDict()))


# ---------------------------------------------------------------- valid files
base = torch.randn(6, 8)
save_valid('dtypes.pth', OrderedDict([
    ('f64', torch.tensor([1.0 / 3, -2.5e-300, float('inf'), float('nan'), -0.0], dtype=torch.float64)),
    ('f32', torch.tensor([1.0 / 3, 1e-45, float('-inf'), -0.0, 3.4e38], dtype=torch.float32)),
    ('f16', torch.tensor([1.0 / 3, 6e-8, 65504.0, float('inf'), -0.0, 1e-5], dtype=torch.float16)),
    ('bf16', torch.tensor([1.0 / 3, 1e-38, 3e38, float('-inf'), -1.5], dtype=torch.bfloat16)),
    ('i64', torch.tensor([-(2 ** 62), 2 ** 40 + 1, -1, 0], dtype=torch.int64)),
    ('i32', torch.tensor([-(2 ** 31), 2 ** 31 - 1, 7], dtype=torch.int32)),
    ('i16', torch.tensor([-32768, 32767], dtype=torch.int16)),
    ('i8', torch.tensor([-128, 127], dtype=torch.int8)),
    ('u8', torch.tensor([0, 255], dtype=torch.uint8)),
    ('bool', torch.tensor([True, False, True])),
    ('scalar', torch.tensor(2.5)),
    ('empty', torch.zeros(0, 3)),
]))
save_valid('views.pth', {
    'step_slice': base[:, ::3],                    # strides (8, 3)
    'row_offset': base[2:4],                       # offset 16
    'transposed_3d': base.reshape(2, 3, 8).permute(2, 0, 1),
    'expanded': torch.arange(3, dtype=torch.float32).expand(4, 3),  # stride (0, 1)
    'column': base[:, 5],                          # offset 5, stride 8
    'whole': base,                                 # shares the storage of all of the above
})
save_valid('nested.pth', {
    'list': [torch.ones(2), 1, 2.5, 'text', None, True, False],
    'tuple': (torch.zeros(1), (1, 2), ()),
    'int_keys': {0: torch.full((2,), 7.0), 1: 'one', -5: 1e-8},
    'tuple_key': {(1, 'a'): 3},
    'big_ints': [2 ** 70, -(2 ** 63), 2 ** 53 + 1],
    'unicode': 'héllo ✓',
    'device': torch.device('cuda', 1),
    'shared': [base[0], base[0]],
    'empty': {},
})
save_valid('parameter.pth', {'weight': torch.nn.Parameter(torch.randn(3, 2)), 'plain': torch.randn(2)})
lin = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
save_valid('state_dict_metadata.pth', lin.state_dict())  # an OrderedDict with _metadata (BUILD)
save_valid('legacy_views.pth', {'a': base[1:3, 2:], 'b': base.t(), 'c': base, 'h': base.half()[::2]}, _use_new_zipfile_serialization=False)
save_valid('protocol4.pth', {'w': torch.randn(5, 2), 'n': list(range(300))}, pickle_protocol=4)

# the same state dict re-zipped with deflate (what another zip tool may do to an archive)
src = zipfile.ZipFile(save_valid('deflated.pth', {'w': torch.randn(64, 16), 'b': torch.zeros(64)}))
entries = [(i.filename, src.read(i.filename)) for i in src.infolist()]
buf = io.BytesIO()
with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
    for n, d in entries:
        z.writestr(n, d)
with open(os.path.join(OUT, 'deflated.pth'), 'wb') as f:
    f.write(buf.getvalue())

# a big-endian archive (byteorder "big", as PyTorch ≥ 2.1 writes on such machines): storages byte-swapped
be_src = zipfile.ZipFile(save_valid('big_endian.pth', {'f': torch.randn(3, 4), 'h': torch.randn(5).half(), 'i': torch.tensor([1, -2, 2 ** 40])}))
swap = {'f': 4, 'h': 2, 'i': 8}
buf = io.BytesIO()
pkl = be_src.read('big_endian/data.pkl')
loaded = torch.load(os.path.join(OUT, 'big_endian.pth'))
with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as z:
    z.writestr('big_endian/data.pkl', pkl)
    z.writestr('big_endian/byteorder', 'big')
    for name in be_src.namelist():
        if '/data/' in name:
            data = be_src.read(name)
            # which tensor uses this storage: match by bytes
            width = next(swap[k] for k, t in loaded.items() if t.numpy().tobytes() == data)
            data = b''.join(data[i:i + width][::-1] for i in range(0, len(data), width))
            z.writestr(name, data)
    z.writestr('big_endian/version', '3\n')
with open(os.path.join(OUT, 'big_endian.pth'), 'wb') as f:
    f.write(buf.getvalue())

# legacy format with storage view metadata (PyTorch < 1.? wrote storage slices so)
def legacy_with_view():
    out = io.BytesIO()
    for header in (0x1950a86a20f9469cfc6c, 1001, {'protocol_version': 1001, 'little_endian': True, 'type_sizes': {'short': 2, 'int': 4, 'long': 4}}):
        pickle.dump(header, out, protocol=2)

    class LegacyPickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ('storage', torch.FloatStorage, 'root', 'cpu', 10, ('view1', 4, 5))
            return None
    obj = {'v': tensor(Storage(None, None, None), 1, [2, 2], [1, 2])}
    LegacyPickler(out, protocol=2).dump(obj)
    pickle.dump(['root'], out, protocol=2)
    out.write(struct.pack('<q', 10))
    out.write(struct.pack('<10f', *range(10)))
    return out.getvalue()


with open(os.path.join(OUT, 'legacy_storage_view.pth'), 'wb') as f:
    f.write(legacy_with_view())
# view starts at 4 in the root; tensor offset 1 → elements 5 + [0,2; 1,3] → [[5, 7], [6, 8]]
expected['valid']['legacy_storage_view.pth'] = {
    'save_kwargs': {'crafted': 'legacy format with view_metadata ("view1", offset 4, size 5)'},
    'structure': {'dict': [['v', {'tensor': True, 'dtype': 'float32', 'shape': [2, 2], 'stride': [1, 2], 'storage_offset': 1, 'storage_numel': 5}]]},
    'values': {'legacy_storage_view.pth/v': [5.0, 7.0, 6.0, 8.0]},
}

# ---------------------------------------------------------------- hostile files
hostile('os_system.pth', torch_zip('os_system', b'\x80\x02cos\nsystem\nq\x00X\x0f\x00\x00\x00echo pwned >&2q\x01\x85q\x02Rq\x03.', {}),
        ['os.system', 'refused'], 'data.pkl calls os.system("echo pwned")')
hostile('builtins_eval.pth', torch_zip('builtins_eval', crafted(Call(eval, ('1+1',))), {}), ['builtins.eval', 'refused'], 'data.pkl calls builtins.eval')
hostile('posix_system.pt', (lambda: (torch.save(Call(os.system, ('echo pwned',)), os.path.join(OUT, 'posix_system.pt')), open(os.path.join(OUT, 'posix_system.pt'), 'rb').read())[1])(),
        ['posix.system', 'refused'], 'torch.save of an object whose __reduce__ is os.system (pickles as posix.system on Linux)')


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2, 2)


tiny_path = os.path.join(OUT, 'whole_module.pth')
torch.save(Tiny(), tiny_path)
with open(tiny_path, 'rb') as f:
    hostile('whole_module.pth', f.read(), ['__main__.Tiny', 'state_dict()'], 'torch.save(model) of a whole nn.Module')

f32 = struct.pack('<10f', *range(10))
hostile('short_storage.pth', torch_zip('short_storage', crafted({'w': tensor(Storage(torch.FloatStorage, '0', 10), 0, [100], [1])}), {'0': f32}),
        ['"w"', 'shorter than its tensor'], 'a tensor of 100 values over a storage of 10')
hostile('offset_past_storage.pth', torch_zip('offset_past_storage', crafted({'w': tensor(Storage(torch.FloatStorage, '0', 10), 8, [2, 2], [2, 1])}), {'0': f32}),
        ['"w"', 'shorter than its tensor'], 'a view whose offset and strides run past its storage')
hostile('huge_storage.pth', torch_zip('huge_storage', crafted({'w': tensor(Storage(torch.FloatStorage, '0', 2 ** 50), 0, [2 ** 50], [1])}), {'0': f32}),
        ['storage "0" declares 1125899906842624', 'holds 40 bytes'], 'a storage declaring 2^50 floats with 40 bytes of data')
hostile('huge_shape.pth', torch_zip('huge_shape', crafted({'w': tensor(Storage(torch.FloatStorage, '0', 10), 0, [2 ** 31, 2 ** 31], [0, 0])}), {'0': f32}),
        ['"w"', 'elements'], 'a 2^62-element broadcast view of 10 floats')
hostile('missing_storage.pth', torch_zip('missing_storage', crafted({'w': tensor(Storage(torch.FloatStorage, '7', 10), 0, [10], [1])}), {}),
        ['storage "7"', 'no entry'], 'a tensor whose storage entry is not in the archive')
hostile('complex.pth', (lambda p: (torch.save({'z': torch.zeros(2, dtype=torch.complex64)}, p), open(p, 'rb').read())[1])(os.path.join(OUT, 'complex.pth')),
        ['complex'], 'a complex tensor (not supported)')

# deep nesting, cycles and memo abuse
# written opcode by opcode (Python's own pickler would overflow its C stack): 100,000 EMPTY_LISTs,
# then APPENDs folding each into the one below it
deep_pickle = b'\x80\x02' + b']' * 100_000 + b'a' * 99_999 + b'.'
hostile('deep_nesting.pth', torch_zip('deep_nesting', deep_pickle, {}), ['nest more than 1000'], '100,000 nested lists')
cycle = []
cycle.append(cycle)
hostile('cycle.pth', torch_zip('cycle', pickle.dumps({'a': cycle}, protocol=2), {}), ['cycle'], 'a list that contains itself (built with the memo)')
laughs = ['x']
for _ in range(40):
    laughs = [laughs] * 10
hostile('billion_laughs.pth', torch_zip('billion_laughs', pickle.dumps(laughs, protocol=2), {}), ['shared references expand'], '40 levels of 10 references each: 10^40 values when walked as a tree')
hostile('memo_get_missing.pth', torch_zip('memo_get_missing', b'\x80\x02h\x05.', {}), ['memo entry 5'], 'BINGET of a memo slot never stored')
hostile('long4_huge.pth', torch_zip('long4_huge', b'\x80\x02\x8b\xff\xff\xff\x7f\x00.', {}), ['declares 2147483647 bytes'], 'LONG4 declaring 2 GiB')
hostile('binunicode_huge.pth', torch_zip('binunicode_huge', b'\x80\x02X\xff\xff\xff\xffab.', {}), ['declares 4294967295 bytes'], 'BINUNICODE declaring 4 GiB')
hostile('no_stop.pth', torch_zip('no_stop', b'\x80\x02K\x01', {}), ['STOP'], 'a pickle that never stops')

# the legacy format's own hostile cases
def legacy(obj_pickle, keys, tail):
    out = io.BytesIO()
    for header in (0x1950a86a20f9469cfc6c, 1001, {'protocol_version': 1001, 'little_endian': True}):
        pickle.dump(header, out, protocol=2)
    out.write(obj_pickle)
    pickle.dump(keys, out, protocol=2)
    out.write(tail)
    return out.getvalue()


class LegacyStoragePickler(pickle.Pickler):
    numel = 10

    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ('storage', torch.FloatStorage, '0', 'cpu', obj.numel, None)
        return None


def legacy_obj(numel, size):
    buf = io.BytesIO()
    LegacyStoragePickler(buf, protocol=2).dump({'w': tensor(Storage(None, None, numel), 0, [size], [1])})
    return buf.getvalue()


hostile('legacy_huge_storage.pth', legacy(legacy_obj(2 ** 40, 10), ['0'], struct.pack('<q', 2 ** 40) + f32), ['declares 1099511627776', 'more than the whole'], 'legacy storage declaring 2^40 floats')
hostile('legacy_truncated_storage.pth', legacy(legacy_obj(10, 10), ['0'], struct.pack('<q', 10) + f32[:20]), ['storage "0" needs 40 bytes', 'truncated'], 'legacy storage data cut short')
hostile('legacy_count_mismatch.pth', legacy(legacy_obj(10, 10), ['0'], struct.pack('<q', 9) + f32), ['stored with 9 values', 'declare 10'], 'legacy storage whose stored count disagrees with its declaration')

# TorchScript archives are zip files too, but hold code, not a pickle of data
script_path = os.path.join(OUT, 'torchscript.pt')
torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), script_path)
expected['hostile']['torchscript.pt'] = {'error_contains': ['TorchScript'], 'what': 'torch.jit.save output'}

with open(os.path.join(OUT, 'expected.json'), 'w') as f:
    json.dump(expected, f, indent=1, ensure_ascii=False)
print('wrote', len(expected['valid']), 'valid and', len(expected['hostile']), 'hostile fixtures to', os.path.normpath(OUT))
