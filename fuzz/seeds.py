#!/usr/bin/env python3
"""Writes the committed seed corpus of the fuzz targets (edge cases).

The byte format is documented in fuzz/src/input.rs (floats, streams, shape
header) and fuzz/src/regression.rs (the regression target's layout). Run
from anywhere: `python3 fuzz/seeds.py [target ...]`; it rewrites
fuzz/corpus/<target>/ of the named targets (all without arguments).
"""
import math
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Indices into SPECIALS (fuzz/src/input.rs).
S = dict(zero=0, negzero=1, one=2, negone=3, half=4, neghalf=5, two=6,
         minpos=7, negminpos=8, minsub=9, negminsub=10, maxsub=11, midsub=12,
         max=13, min=14, inf=15, neginf=16, nan=17, negnan=18, snan=19,
         nanpayload=20, e30=21, nege30=22, em30=23, negem30=24, sqrtmax=25,
         negsqrtmax=26, halfmax=27, neghalfmax=28, p24=29, p24p1=30, em20=31,
         tenth=32, negtenth=33, sub3em39=34, em6=35)
NSPECIAL = 36


def special(name):
    return bytes([0, S[name]])


def bits(b):
    return bytes([1]) + struct.pack('<I', b)


def nice(v):
    return bytes([2]) + struct.pack('<h', int(round(v * 64)))


def f(v):
    """A float: exactly, via its bit pattern."""
    return bits(struct.unpack('<I', struct.pack('<f', v))[0])


def header(n, offs=(0, 0, 0), tsel=0, osel=0, tail_guard=False):
    return struct.pack('<H', n) + bytes(offs) + bytes([tsel, osel, 1 if tail_guard else 0])


def patches(items=()):
    out = bytes([len(items)])
    for idx, val in items:
        out += struct.pack('<H', idx) + val
    return out


def explicit(vals, p=()):
    return bytes([0]) + b''.join(vals) + patches(p)


def const(v, p=()):
    return bytes([1]) + v + patches(p)


def rng(seed, dist, p=()):
    return bytes([2]) + struct.pack('<Q', seed) + dist + patches(p)


def ramp(start, step, p=()):
    return bytes([3]) + start + step + patches(p)


def near_input(seed, dist, p=()):
    return bytes([4]) + struct.pack('<Q', seed) + dist + patches(p)


def same_as_input(p=()):
    return bytes([5]) + patches(p)


def uniform(scale):
    return bytes([0]) + scale


def random_bits():
    return bytes([1])


def log_uniform(lo, span):
    return bytes([2, lo + 150, span])


def mixed(p):
    return bytes([3, p])


def regression(n, input_s, target_s, grad_s, delta=nice(1.0), beta=nice(1.0),
               reds=0, scale_o=nice(1.0), scale_a=nice(0.5), **hdr):
    return (header(n, **hdr) + delta + beta + bytes([reds]) + scale_o + scale_a
            + input_s + target_s + grad_s)


def regression_seeds():
    specials = [special(k) for k in S]
    seeds = {}
    # Every length class: tiny, one register, one chunk +-1, one block +-1,
    # several blocks with a tail, at varied offsets.
    for i, n in enumerate([1, 3, 15, 16, 17, 63, 64, 65, 127, 255, 256, 257, 511, 1100]):
        seeds[f'len_{n}'] = regression(
            n, rng(i, uniform(nice(4.0))), rng(100 + i, uniform(nice(4.0))),
            rng(200 + i, uniform(nice(1.0))), offs=(i % 16, (3 * i) % 16, (7 * i) % 16),
            tail_guard=bool(i & 1), reds=i & 3)
    # All specials against all specials (shifted), and as initial gradient.
    rot = specials[5:] + specials[:5]
    seeds['specials'] = regression(NSPECIAL, explicit(specials), explicit(rot), explicit(specials[::-1]))
    seeds['specials_x_one'] = regression(NSPECIAL, explicit(specials), const(nice(1.0)), const(special('nanpayload')))
    # NaN / inf at chunk and block boundaries, in input, target and gradient.
    edges = [0, 63, 64, 255, 256, 299]
    seeds['nan_edges'] = regression(
        300, rng(1, uniform(nice(2.0)), [(i, special('nan')) for i in edges]),
        rng(2, uniform(nice(2.0)), [(1, special('snan')), (65, special('nanpayload'))]),
        rng(3, uniform(nice(1.0)), [(2, special('negnan'))]), offs=(1, 2, 3))
    seeds['inf_edges'] = regression(
        300, rng(1, uniform(nice(2.0)), [(i, special('inf')) for i in edges]),
        rng(2, uniform(nice(2.0)), [(63, special('inf')), (64, special('neginf'))]),
        rng(3, uniform(nice(1.0))))
    # Residual exactly zero (L1's sign(0)), and tiny residuals.
    seeds['zero_residual'] = regression(200, rng(4, mixed(40)), same_as_input(), rng(5, uniform(nice(1.0))))
    seeds['tiny_residual'] = regression(200, rng(6, uniform(nice(100.0))), near_input(7, log_uniform(-40, 20)),
                                        rng(8, uniform(nice(1.0))))
    # Residuals around the Huber / SmoothL1 thresholds.
    seeds['threshold'] = regression(257, rng(9, uniform(nice(1.0))), near_input(10, uniform(nice(1.0))),
                                    const(special('zero')), delta=nice(0.25), beta=nice(0.5))
    seeds['threshold_ramp'] = regression(130, ramp(nice(-2.0), f(1.0 / 32.0)), const(special('zero')),
                                         const(special('zero')), delta=nice(1.0), beta=nice(1.0))
    # Subnormals and huge values, near overflow of r, r^2 and sums.
    seeds['subnormal'] = regression(300, rng(11, log_uniform(-150, 30)), rng(12, log_uniform(-150, 30)),
                                    rng(13, log_uniform(-150, 30)), scale_o=special('minsub'),
                                    scale_a=special('maxsub'), delta=special('minsub'), beta=special('midsub'))
    seeds['huge'] = regression(300, rng(14, log_uniform(90, 38)), rng(15, log_uniform(90, 38)),
                               rng(16, log_uniform(90, 38)), scale_o=special('max'), scale_a=special('e30'),
                               delta=special('e30'), beta=special('max'))
    seeds['sqrt_max'] = regression(64, const(special('sqrtmax')), const(special('zero')), const(special('zero')),
                                   reds=3)
    seeds['random_bits'] = regression(700, rng(17, random_bits()), rng(18, random_bits()), rng(19, random_bits()),
                                      offs=(5, 9, 13))
    seeds['mixed'] = regression(1000, rng(20, mixed(30)), rng(21, mixed(30)), rng(22, mixed(30)), reds=1,
                                offs=(15, 0, 7), tail_guard=True)
    # Scale edge cases.
    for name in ['zero', 'negzero', 'nan', 'inf', 'minsub', 'max']:
        seeds[f'scale_{name}'] = regression(100, rng(23, uniform(nice(3.0))), rng(24, uniform(nice(3.0))),
                                            rng(25, uniform(nice(1.0))), scale_o=special(name),
                                            scale_a=special(name), reds=2)
    # Invalid and boundary parameters.
    for name in ['zero', 'negzero', 'nan', 'negnan', 'inf', 'neginf', 'negone', 'minsub', 'max']:
        seeds[f'param_{name}'] = regression(70, rng(26, uniform(nice(3.0))), rng(27, uniform(nice(3.0))),
                                            const(special('zero')), delta=special(name), beta=special(name))
    # Error paths: empty input, mismatched target / output lengths.
    seeds['empty'] = regression(0, const(special('one')), const(special('one')), const(special('one')))
    for sel in range(8):
        seeds[f'mismatch_target_{sel}'] = regression(
            65, rng(28, uniform(nice(1.0))), rng(29, uniform(nice(1.0))), rng(30, uniform(nice(1.0))),
            tsel=160 + sel)
        seeds[f'mismatch_out_{sel}'] = regression(
            65, rng(28, uniform(nice(1.0))), rng(29, uniform(nice(1.0))), rng(30, uniform(nice(1.0))),
            osel=160 + sel, tail_guard=bool(sel & 1))
    seeds['mismatch_both'] = regression(300, rng(31, uniform(nice(1.0))), rng(32, uniform(nice(1.0))),
                                        rng(33, uniform(nice(1.0))), tsel=160, osel=167)
    seeds['empty_mismatch'] = regression(0, const(special('one')), const(special('one')), const(special('one')),
                                         tsel=160, osel=162)
    return seeds


def labels():
    return bytes([4])


def unit_interval():
    return bytes([5])


def binary(n, logits, probs, target, grad, weight, flags=0, wsel=0, pw=nice(1.0), classes=(),
           alpha=nice(0.25), gamma=nice(2.0), reds=0, scale_o=nice(1.0), scale_a=nice(0.5), **hdr):
    return (header(n, **hdr) + bytes([flags, wsel]) + pw + bytes([len(classes)]) + b''.join(classes)
            + alpha + gamma + bytes([reds]) + scale_o + scale_a + logits + probs + target + grad + weight)


def binary_seeds():
    seeds = {}
    for i, n in enumerate([1, 17, 63, 64, 65, 255, 257, 700]):
        seeds[f'len_{n}'] = binary(
            n, rng(i, uniform(nice(12.0))), rng(50 + i, unit_interval()), rng(100 + i, labels()),
            rng(150 + i, uniform(nice(1.0))), rng(200 + i, unit_interval()), flags=i & 15,
            classes=[nice(0.5), nice(2.0), nice(3.0)][: 1 + i % 3] if n % (1 + i % 3) == 0 else [nice(1.0)],
            offs=(i % 16, (5 * i) % 16, (3 * i) % 16), tail_guard=bool(i & 1), reds=i & 3)
    # Soft targets, edge logits and probabilities (0, 1, subnormal, NaN, inf).
    seeds['specials'] = binary(NSPECIAL, explicit([special(k) for k in S]), explicit([special(k) for k in S]),
                               rng(1, unit_interval()), const(special('zero')), const(nice(1.0)), flags=15)
    seeds['huge_logits'] = binary(300, rng(2, log_uniform(20, 108)), rng(3, unit_interval()), rng(4, labels()),
                                  const(special('zero')), rng(5, unit_interval()), flags=2, pw=nice(3.0))
    seeds['prob_edges'] = binary(130, rng(6, mixed(40)), rng(7, unit_interval(),
                                 [(0, special('zero')), (1, special('one')), (64, special('minsub')),
                                  (65, special('maxsub')), (129, special('nan'))]),
                                 rng(8, labels()), const(special('zero')), const(nice(2.0)))
    # Errors: out-of-range probability, weight length, pos_weight shape and values, α / γ.
    seeds['prob_out_of_range'] = binary(100, rng(9, uniform(nice(3.0))), rng(10, unit_interval(), [(77, nice(1.5))]),
                                        rng(11, labels()), const(special('zero')), const(nice(1.0)))
    for sel in (160, 161, 164):
        seeds[f'weight_len_{sel}'] = binary(65, rng(12, uniform(nice(3.0))), rng(13, unit_interval()),
                                            rng(14, labels()), const(special('zero')), const(nice(1.0)),
                                            flags=15, wsel=sel)
    seeds['pos_weight_not_broadcastable'] = binary(65, rng(15, uniform(nice(3.0))), rng(16, unit_interval()),
                                                   rng(17, labels()), const(special('zero')), const(nice(1.0)),
                                                   flags=4, classes=[nice(1.0), nice(2.0)])
    seeds['pos_weight_empty'] = binary(64, rng(15, uniform(nice(3.0))), rng(16, unit_interval()),
                                       rng(17, labels()), const(special('zero')), const(nice(1.0)), flags=4)
    for name in ['nan', 'negone', 'inf']:
        seeds[f'param_{name}'] = binary(64, rng(18, uniform(nice(3.0))), rng(19, unit_interval()),
                                        rng(20, labels()), const(special('zero')), const(nice(1.0)),
                                        pw=special(name), alpha=special(name) if name != 'negone' else nice(1.5),
                                        gamma=special(name))
    seeds['mismatch_target'] = binary(65, rng(21, uniform(nice(3.0))), rng(22, unit_interval()),
                                      rng(23, labels()), const(special('zero')), const(nice(1.0)), tsel=160, osel=165)
    seeds['empty'] = binary(0, const(special('one')), const(special('half')), const(special('one')),
                            const(special('one')), const(special('one')))
    return seeds


# ---- softmax (fuzz/src/softmax.rs) ----

MAX_LOGITS = 6000


def shape_bytes(n, c, s):
    """N, C, S and the mode byte that decode to exactly [n, c, s]."""
    assert n * c * s <= MAX_LOGITS, (n, c, s)
    if s == 1 and n <= 300 and c <= 320:
        mode, raw = 0, (n - 1, c - 1, 0)
    elif n <= 4 and c <= 32 and s <= 1100:
        mode, raw = 1, (n - 1, c - 1, s - 1)
    elif n <= 12 and c <= 80 and s <= 140:
        mode, raw = 2, (n - 1, c - 1, s - 1)
    else:
        assert n <= 5 and c <= 5 and s <= 5, (n, c, s)
        mode, raw = 3, (n - 1, c - 1, s - 1)
    return struct.pack('<HHH', *raw) + bytes([mode])


LABEL_TYPES = dict(u8=0, u16=1, u32=2, u64=3, i32=4, i64=5, usize=6)
IGNORE = {-100: 0, 255: 1, 0: 2, 'c-1': 3, 'c': 4, -1: 5, 65535: 7}


def ignore_bytes(ignore):
    if ignore in IGNORE:
        return bytes([IGNORE[ignore]])
    return bytes([6]) + struct.pack('<q', ignore)


def unit_sel(v):
    """Smoothing / gamma: None = the default, a float = exactly it."""
    if v is None:
        return bytes([0])
    return bytes([2]) + f(v)


def softmax(n, c, s, logits, probs=None, weight=None, grad=None, offs=(0, 0, 0), sels=(0, 0, 0, 0),
            weighted=False, tail_guard=False, ltype='i64', ignore=-100, eps=None, gamma=None, reds=0,
            scale_o=nice(1.0), scale_a=nice(0.5), lseed=1, ignore_rate=0, invalid_rate=0, lpatches=(),
            probe=(1, 1, 1)):
    flags = (1 if weighted else 0) | (2 if tail_guard else 0) | (LABEL_TYPES[ltype] << 2)
    out = shape_bytes(n, c, s) + bytes(offs) + bytes(sels) + bytes([flags]) + ignore_bytes(ignore)
    out += unit_sel(eps) + unit_sel(gamma) + bytes([reds]) + scale_o + scale_a
    out += struct.pack('<Q', lseed) + bytes([ignore_rate, 224 + invalid_rate if invalid_rate else 0])
    out += bytes([len(lpatches)])
    for pos, sel in lpatches:
        out += struct.pack('<H', pos) + bytes([sel])
        if sel % 17 == 16:
            out += struct.pack('<q', -(1 << 40))
    out += logits
    out += probs if probs is not None else rng(lseed + 1, unit_interval())
    out += weight if weight is not None else rng(lseed + 2, unit_interval())
    out += grad if grad is not None else rng(lseed + 3, uniform(nice(1.0)))
    out += bytes(probe)
    return out


def softmax_seeds():
    seeds = {}
    logit = lambda seed, scale=8.0, p=(): rng(seed, uniform(nice(scale)), p)
    # Row kernel (S = 1, C >= 64): chunk tails, several rows, > 64 rows.
    for i, (n, c) in enumerate([(3, 64), (2, 65), (5, 100), (4, 127), (4, 128), (3, 200), (18, 320),
                                (70, 64), (1, 300)]):
        seeds[f'row_n{n}_c{c}'] = softmax(n, c, 1, logit(10 + i), offs=(i % 16, (5 * i) % 16, (3 * i) % 16),
                                          weighted=bool(i & 1), tail_guard=bool(i & 2),
                                          ltype=list(LABEL_TYPES)[i % 7], eps=[None, 0.1][i % 2],
                                          reds=i & 3, ignore_rate=20 * (i % 3), lseed=100 + i)
    # Tile kernel on classifiers (S = 1, C < 64): gathered tiles, > 256 samples.
    for i, (n, c) in enumerate([(7, 1), (65, 2), (257, 10), (300, 19), (95, 63), (64, 3)]):
        seeds[f'cls_n{n}_c{c}'] = softmax(n, c, 1, logit(30 + i), offs=((3 * i) % 16, i % 16, (7 * i) % 16),
                                          weighted=bool(i & 1), tail_guard=bool(i & 2),
                                          ltype=list(LABEL_TYPES)[(i + 3) % 7], eps=[None, 0.25][i % 2],
                                          gamma=[None, 0.5][i % 2], reds=i & 3, ignore_rate=30, lseed=200 + i)
    # Segmentation maps: direct tiles, tails, tiles across images.
    for i, (n, c, s) in enumerate([(1, 5, 1100), (2, 3, 1000), (1, 21, 256), (4, 2, 65), (3, 4, 100),
                                   (4, 1, 700), (2, 32, 64), (3, 7, 130)]):
        seeds[f'seg_n{n}_c{c}_s{s}'] = softmax(n, c, s, logit(50 + i), offs=(i % 16, (3 * i) % 16, (5 * i) % 16),
                                               weighted=bool(i & 1), tail_guard=bool(i & 2), ltype='u8',
                                               ignore=255, eps=[None, 0.05][i % 2], reds=i & 3,
                                               ignore_rate=40, lseed=300 + i)
    for i, (n, c, s) in enumerate([(12, 7, 3), (5, 13, 63), (8, 5, 140), (11, 30, 17), (9, 9, 9)]):
        seeds[f'mix_n{n}_c{c}_s{s}'] = softmax(n, c, s, logit(70 + i), weighted=bool(i & 1), ltype='i32',
                                               tail_guard=bool(i & 2), reds=i & 3, lseed=400 + i)
    for i, (n, c, s) in enumerate([(1, 1, 1), (5, 5, 5), (2, 3, 4), (1, 2, 1)]):
        seeds[f'tiny_{n}{c}{s}'] = softmax(n, c, s, logit(80 + i), ltype='usize', lseed=500 + i)
    # Specials: NaN, ±inf (ties at +inf, rows of −inf), huge and random logits.
    nan_p = [(0, special('nan')), (65, special('nan')), (300, special('negnan')), (1000, special('snan'))]
    seeds['nan_row'] = softmax(8, 100, 1, logit(90, p=nan_p), eps=0.1)
    seeds['nan_tile'] = softmax(2, 5, 300, logit(91, p=nan_p), ltype='u8', ignore=255, ignore_rate=50)
    seeds['nan_probs'] = softmax(3, 70, 1, logit(92), probs=rng(93, unit_interval(), [(5, special('nan'))]))
    inf_p = [(3, special('inf')), (7, special('inf')), (200, special('inf')), (201, special('neginf')),
             (400, special('neginf'))]
    seeds['inf_row'] = softmax(6, 80, 1, logit(94, p=inf_p), eps=0.2, gamma=0.5)
    seeds['inf_tile'] = softmax(3, 4, 50, logit(95, p=inf_p), gamma=3.0)
    seeds['neginf_rows'] = softmax(4, 66, 1, const(special('neginf'), [(70, nice(1.0))]))
    seeds['neginf_tile'] = softmax(2, 3, 70, const(special('neginf'), [(5, nice(2.0))]), ltype='u16')
    seeds['huge_row'] = softmax(5, 90, 1, rng(96, log_uniform(90, 38)), eps=0.3)
    seeds['huge_tile'] = softmax(2, 6, 100, rng(97, log_uniform(60, 60)))
    seeds['specials_tile'] = softmax(1, NSPECIAL, 1, explicit([special(k) for k in S]))
    seeds['mixed_row'] = softmax(7, 64, 1, rng(98, mixed(30)), weighted=True, weight=rng(99, mixed(20)))
    seeds['mixed_tile'] = softmax(3, 9, 77, rng(100, mixed(30)), probs=rng(101, mixed(30)))
    seeds['random_bits'] = softmax(4, 33, 20, rng(102, random_bits()), grad=rng(103, random_bits()))
    seeds['dominant'] = softmax(4, 100, 1, rng(104, uniform(nice(1.0)), [(i, nice(60.0)) for i in (0, 150, 299)]),
                                gamma=0.25)
    seeds['ties'] = softmax(3, 70, 1, const(nice(2.0)), eps=0.5, gamma=1.0)
    # Ignoring: all ignored, every label type with a matching ignore index.
    seeds['all_ignored'] = softmax(2, 4, 80, logit(105, p=nan_p[:2]), ltype='u8', ignore=255, ignore_rate=255,
                                   reds=3)
    seeds['all_ignored_row'] = softmax(3, 64, 1, logit(106), ignore_rate=255, reds=0)
    for i, lt in enumerate(LABEL_TYPES):
        seeds[f'labels_{lt}'] = softmax(5, 3 + i, 20, logit(110 + i), ltype=lt,
                                        ignore=[255, 65535, 0, 'c-1', -1, -100, 'c'][i], ignore_rate=60,
                                        lseed=600 + i)
    seeds['ignore_i64_min'] = softmax(3, 5, 10, logit(117), ltype='i64', ignore=-(1 << 63), ignore_rate=80)
    # Weights: zero, negative, NaN, inf, huge.
    for i, (name, w) in enumerate([('zero', const(special('zero'))), ('neg', rng(120, uniform(nice(2.0)))),
                                   ('nan', rng(121, unit_interval(), [(1, special('nan'))])),
                                   ('inf', rng(122, unit_interval(), [(0, special('inf'))])),
                                   ('huge', const(special('e30'))), ('tiny', const(special('minsub')))]):
        seeds[f'weight_{name}'] = softmax(4, [3, 70][i % 2], [40, 1][i % 2], logit(123 + i), weighted=True,
                                          weight=w, eps=[None, 0.1][i % 2 == 0], reds=i & 3)
    # Smoothing and γ at and beyond their edges.
    for i, v in enumerate([1.0, -0.0, 1.5, -0.1, float('nan'), float('inf')]):
        seeds[f'smoothing_{i}'] = softmax(3, 8, 9, logit(130 + i), eps=v)
    for i, v in enumerate([0.0, 1.0, 8.0, -1.0, float('nan'), float('inf'), 100.0]):
        seeds[f'gamma_{i}'] = softmax(2, 70, 1, logit(140 + i), gamma=v)
    # Gradient scales.
    for name in ['zero', 'nan', 'inf', 'minsub', 'max']:
        seeds[f'scale_{name}'] = softmax(3, 6, 30, logit(150), scale_o=special(name), scale_a=special(name), reds=2)
    # Invalid labels: random, and each odd value as a patch.
    seeds['labels_invalid'] = softmax(3, 10, 30, logit(160), invalid_rate=31)
    seeds['labels_invalid_row'] = softmax(5, 64, 1, logit(161), invalid_rate=10, ltype='u8')
    for sel in range(17):
        seeds[f'label_patch_{sel}'] = softmax(2, 5, 40, logit(170 + sel), ltype=list(LABEL_TYPES)[sel % 7],
                                              lpatches=[(33, sel)])
    # Wrong lengths of input, target, weight, output.
    for arg in range(4):
        for k in range(8):
            sels = [0, 0, 0, 0]
            sels[arg] = 160 + k
            seeds[f'mismatch_{"itwo"[arg]}{k}'] = softmax(2, [3, 64][k % 2], [33, 1][k % 2], logit(190),
                                                          sels=tuple(sels), weighted=arg == 2 or k % 3 == 0,
                                                          tail_guard=bool(k & 1), lpatches=[(1, 0)] if k == 5 else ())
    seeds['mismatch_all'] = softmax(3, 5, 7, logit(191), sels=(161, 162, 163, 164), weighted=True, invalid_rate=5)
    # Shape probes: zero extents, too many classes, overflow.
    for i, probe in enumerate([(0, 1, 1), (1, 0, 1), (1, 1, 0), (1, 5, 1), (6, 6, 6), (7, 4, 2), (8, 8, 8),
                               (3, 4, 3), (0, 0, 0), (4, 9, 6)]):
        seeds[f'probe_{i}'] = softmax(1, 2, 3, logit(200 + i), probe=probe)
    return seeds


# ---- dice (fuzz/src/dice.rs) ----

DICE_MAX_LOGITS = 10800
ACTIVATIONS = dict(sigmoid=0, softmax=1, none=2)
RATIOS = dict(dice=0, jaccard=1, tversky=2, generalized=3)


def dice_shape(n, c, s):
    """N, C, S and the class-mode byte that decode to exactly [n, c, s]."""
    assert 1 <= n <= 4 and 1 <= c <= 130 and 1 <= s <= 300 and n * c * s <= DICE_MAX_LOGITS, (n, c, s)
    mode = 0 if c <= 9 else 6
    return bytes([n - 1, c - 1]) + struct.pack('<H', s - 1) + bytes([mode])


def scaled_int(v, m, limit):
    """Whether v * m is an integer in [0, limit)."""
    return math.isfinite(v) and v * m == int(v * m) and 0 <= v * m < limit


def dice_param(v):
    """alpha / beta: 0.5, k/64, 0 or 1 by their selectors, else the float."""
    if v == 0.5:
        return bytes([0])
    if v in (0.0, 1.0):
        return bytes([3, int(v)])
    if scaled_int(v, 64, 256):
        return bytes([1, int(v * 64)])
    return bytes([2]) + f(v)


SMOOTH_PICKS = {0.0: 0, 1e-5: 1, 1.0: 2, 1e-3: 3}


def dice_smooth(smooth):
    """None: the defaults; a pair of picked values (or u16/256 ones), else raw floats."""
    if smooth is None:
        return bytes([0])
    nr, dr = smooth

    def pick(v):
        if v in SMOOTH_PICKS:
            return bytes([SMOOTH_PICKS[v]])
        if scaled_int(v, 256, 65536):
            return bytes([4]) + struct.pack('<H', int(v * 256))
        return bytes([5]) + f(v)
    if all(v in SMOOTH_PICKS or scaled_int(v, 256, 65536) for v in (nr, dr)):
        return bytes([1]) + pick(nr) + pick(dr)
    return bytes([2]) + f(nr) + f(dr)


DICE_IGNORE = {None: 0, 255: 1, 0: 2, 'c-1': 3, 'c': 4, -1: 5, 1: 7}


def dice_ignore(ignore):
    if ignore in DICE_IGNORE:
        return bytes([DICE_IGNORE[ignore]])
    return bytes([6]) + struct.pack('<q', ignore)


def dice(n, c, s, logits, act='softmax', ratio='dice', alpha=0.5, beta=0.5, squared=False, background=True,
         batch=False, weighted=False, tail_guard=False, domain=True, smooth=None, ignore=None, ltype='i64',
         reds=0, scale_o=nice(1.0), scale_a=nice(0.5), lseed=1, ignore_rate=0, invalid_rate=0, present=255,
         lpatches=(), probs=None, weight=None, grad=None, offs=(0, 0, 0), sels=(0, 0, 0, 0, 0)):
    flags = ((1 if squared else 0) | (0 if background else 2) | (4 if batch else 0) | (8 if weighted else 0)
             | (16 if tail_guard else 0) | (64 if domain else 0))
    out = dice_shape(n, c, s) + bytes(offs) + bytes(sels) + bytes([ACTIVATIONS[act], RATIOS[ratio]])
    out += dice_param(alpha) + dice_param(beta) + bytes([flags]) + dice_smooth(smooth) + dice_ignore(ignore)
    out += bytes([LABEL_TYPES[ltype], reds]) + scale_o + scale_a
    out += struct.pack('<Q', lseed) + bytes([ignore_rate, 224 + invalid_rate if invalid_rate else 0, present])
    out += bytes([len(lpatches)])
    for pos, sel in lpatches:
        out += struct.pack('<H', pos) + bytes([sel])
        if sel % 16 == 15:
            out += struct.pack('<q', -(1 << 40))
    out += logits
    out += probs if probs is not None else rng(lseed + 1, unit_interval())
    out += weight if weight is not None else rng(lseed + 2, uniform(nice(4.0)))
    out += grad if grad is not None else rng(lseed + 3, uniform(nice(1.0)))
    return out


def dice_seeds():
    seeds = {}
    logit = lambda seed, scale=6.0, p=(): rng(seed, uniform(nice(scale)), p)
    # The common cases: binary sigmoid, multi-class softmax with every option.
    seeds['binary_sigmoid'] = dice(1, 1, 5, logit(1), act='sigmoid', ltype='u8')
    seeds['binary_batch_tails'] = dice(4, 1, 300, logit(2), act='sigmoid', batch=True, ltype='u8', reds=3,
                                       offs=(1, 2, 3), tail_guard=True)
    seeds['softmax_options'] = dice(2, 4, 130, logit(3), background=False, weighted=True, ignore=255,
                                    ignore_rate=40, ltype='i64', reds=1, offs=(5, 0, 9))
    seeds['jaccard_squared'] = dice(1, 9, 64, logit(4), ratio='jaccard', squared=True, ltype='u16')
    seeds['tversky'] = dice(3, 3, 65, logit(5), act='sigmoid', ratio='tversky', alpha=0.3, beta=0.7,
                            weighted=True, ltype='i32', reds=2)
    seeds['generalized_empty'] = dice(2, 5, 129, logit(6), ratio='generalized', batch=True, present=2,
                                      ltype='usize')
    seeds['none_probabilities'] = dice(2, 3, 100, rng(7, unit_interval()), act='none', squared=True,
                                       smooth=(1.0, 1.0), ltype='u64')
    seeds['classes_128'] = dice(1, 128, 20, logit(8), ratio='generalized', ignore='c-1', ignore_rate=30)
    # All ignored with s_dr = 0 (NaN, as MONAI), and every label ignored at s_dr > 0.
    seeds['all_ignored_zero_smooth'] = dice(2, 4, 80, logit(9), ltype='u8', ignore=255, ignore_rate=255,
                                            smooth=(0.0, 0.0))
    seeds['all_ignored'] = dice(3, 2, 70, logit(10), act='sigmoid', ignore=0, ignore_rate=255, reds=3)
    # Shape errors: too many classes, one channel with softmax / without background.
    seeds['classes_129'] = dice(1, 129, 3, logit(11))
    seeds['one_channel_softmax'] = dice(2, 1, 10, logit(12), ltype='u8')
    seeds['one_channel_no_background'] = dice(2, 1, 10, logit(13), act='sigmoid', background=False)
    # Weights: negative, wrong length (also the usual C instead of C - 1).
    seeds['weight_negative'] = dice(2, 3, 40, logit(14), weighted=True, domain=False,
                                    weight=rng(15, unit_interval(), [(1, nice(-1.5))]))
    seeds['weight_length'] = dice(2, 4, 40, logit(16), background=False, weighted=True, sels=(0, 0, 160, 0, 0))
    # Labels: invalid ones, odd values by patch; parameters: invalid smoothing, α, β.
    seeds['labels_invalid'] = dice(3, 5, 30, logit(17), invalid_rate=20, ltype='i64')
    seeds['label_patches'] = dice(2, 1, 70, logit(18), act='sigmoid', ltype='u16',
                                  lpatches=[(3, 0), (40, 2), (69, 15)])
    seeds['smooth_invalid'] = dice(1, 3, 20, logit(19), smooth=(-1.0, float('nan')))
    seeds['tversky_invalid'] = dice(1, 3, 20, logit(20), ratio='tversky', alpha=float('nan'),
                                    beta=float('inf'))
    # Edge values outside the reference domain: specials, huge logits, NaN at tile edges.
    seeds['specials'] = dice(1, 2, NSPECIAL, explicit([special(k) for k in S]), act='sigmoid', domain=False,
                             probs=explicit([special(k) for k in reversed(list(S))]))
    seeds['huge_logits'] = dice(2, 3, 100, rng(21, log_uniform(90, 38)), domain=False)
    seeds['nan_edges'] = dice(2, 2, 130, logit(22, p=[(i, special('nan')) for i in (0, 63, 64, 129)]),
                              act='none', domain=False, ignore=255, ignore_rate=30)
    # NaN and infinite logits at ignored pixels (which must get a zero gradient).
    seeds['nan_ignored'] = dice(1, 3, 8, logit(27, p=[(i, special('nan')) for i in range(0, 24, 3)]),
                                act='sigmoid', domain=False, ignore=255, ignore_rate=255)
    seeds['inf_ignored_softmax'] = dice(1, 3, 8, logit(28, p=[(i, special('neginf')) for i in (0, 8, 16)]),
                                        domain=False, ignore=255, ignore_rate=255)
    # Wrong lengths of input, target, weight, grad, out; gradient scales.
    seeds['mismatch'] = dice(2, 3, 33, logit(23), weighted=True, sels=(161, 162, 163, 164, 165))
    seeds['scales'] = dice(2, 3, 65, logit(24), scale_o=special('nan'), scale_a=special('inf'), reds=1)
    seeds['random_bits'] = dice(3, 7, 50, rng(25, random_bits()), domain=False, grad=rng(26, random_bits()))
    # Reported failures (each fails a documented bound or rule; kept as
    # regression inputs). Raw fuzzer finds: the rest of each case comes from
    # the data-seeded generator, so they cannot be rebuilt from dice().
    # Softmax gradient within 2^-18 max|g|: cancels when v is the same in
    # every class (all-one / all-zero probability targets).
    seeds['bug_grad_cancel_all_ones'] = bytes.fromhex(
        '00021300000000000000000202400000000000000001038100000500090000000000010000004a0001050102400002200001'
        '000000000000002800ff000203000000000000000002800100020200bfbfbfbfbfbfbfbfbfbfbf0000c07f02010000807f40'
        '000005000240000000000202019a99993e03013333333f000220480000010000000000040000')
    seeds['bug_grad_cancel_zero_targets'] = bytes.fromhex(
        '01012481000000000000000000f4020000000000010500024000022000014b4b4b4b4b4b4b4b4b4b4b4b4b4b4d4b4b4b4b4b'
        '4b4b4b4b4b4b4b4b4b4b4b0003000200050000000000020001000204000000040000000002400000')
    # NaN gradients for finite inputs: an f32 coefficient overflows (inf * 0):
    # generalized weights of tiny (non-zero) target masses, Tversky beta ~ 1e38.
    seeds['bug_generalized_tiny_mass'] = bytes.fromhex('0240002000000000000000c577d77f0025004005009e000000000006400502bf40020209000000000001')
    seeds['bug_generalized_tiny_mass_squared'] = bytes.fromhex('002000000204d800')
    seeds['bug_tversky_huge_beta'] = bytes.fromhex('fffe08ffff00004b4ccc')
    # Value within 2^-21 (1 + |v|): Jaccard, squared, no activation, soft
    # targets, 120 classes (2.3 of the bound); Tversky (alpha + beta > 1)
    # with squared_pred, whose denominator can cancel (46 of the bound).
    seeds['bug_value_jaccard_squared'] = bytes.fromhex('2a000109ffffff000921')
    seeds['bug_value_tversky_squared'] = dice(1, 7, 1, rng(6, uniform(nice(6.0))), ratio='tversky', alpha=3.0625,
                                              squared=True, background=False, batch=True, weighted=True, lseed=6)
    return seeds


def write(target, seeds):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    for old in os.listdir(d):
        os.remove(os.path.join(d, old))
    for name, data in seeds.items():
        with open(os.path.join(d, name), 'wb') as fh:
            fh.write(data)
    print(f'{target}: {len(seeds)} seeds, {sum(map(len, seeds.values()))} bytes')


TARGETS = dict(regression=regression_seeds, binary=binary_seeds, softmax=softmax_seeds, dice=dice_seeds)

if __name__ == '__main__':
    # `python3 fuzz/seeds.py [target ...]`: the named targets, or all.
    for name in sys.argv[1:] or TARGETS:
        write(name, TARGETS[name]())
