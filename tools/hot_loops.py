#!/usr/bin/env python3
"""Find the hot loops of a release binary and run llvm-mca on each.

    python3 tools/hot_loops.py BINARY [MIN_INSTR MAX_INSTR] [MCPU]

Disassembles BINARY (objdump), takes every backward jump inside a function
with at least 50 zmm/ymm instructions as a loop, keeps loops whose body has
MIN_INSTR..MAX_INSTR instructions (default 60..400), writes each body to
/tmp/loop_K.s and prints llvm-mca-19's cycles per iteration and block
reciprocal throughput (-mcpu=MCPU, default znver4). Hardware counters do
not work on our VMs and valgrind cannot run AVX-512: this is how a kernel's
inner loop is judged (issue 10). A small `fn main` calling one loss with
`with_isa(Isa::Avx512)` makes a binary whose biggest loops are that loss's.
"""
import re
import subprocess
import sys

binp = sys.argv[1]
lo, hi = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (60, 400)
mcpu = sys.argv[4] if len(sys.argv) > 4 else "znver4"
out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binp],
                     capture_output=True, text=True, check=True).stdout
funcs, cur = {}, None
for line in out.split("\n"):
    m = re.match(r"^([0-9a-f]+) <(.*)>:", line)
    if m:
        cur = (m.group(1), m.group(2))
        funcs[cur] = []
    elif cur and re.match(r"^\s+[0-9a-f]+:", line):
        funcs[cur].append(line)
k = 0
for f, ins in funcs.items():
    if sum(("zmm" in l) or ("ymm" in l) for l in ins) < 50:
        continue
    addr = [int(l.split(":")[0], 16) for l in ins]
    for l in ins:
        m = re.match(r"^\s+([0-9a-f]+):\s+(j\w+)\s+([0-9a-f]+)", l)
        if not m or int(m.group(3), 16) >= int(m.group(1), 16):
            continue
        s, e = int(m.group(3), 16), int(m.group(1), 16)
        body = [x for x, a in zip(ins, addr) if s <= a <= e]
        if not lo <= len(body) <= hi:
            continue
        txt = [".att_syntax"]
        for l2 in body:
            t = re.sub(r"^\s+[0-9a-f]+:\s+", "", l2)
            t = re.sub(r"#.*", "", t)
            t = re.sub(r"<[^>]*>", "", t)
            if t.startswith("j") or t.startswith("nop") or "data16" in t:
                continue
            txt.append(t)
        fn = f"/tmp/loop_{k}.s"
        k += 1
        with open(fn, "w") as fh:
            fh.write("\n".join(txt) + "\n")
        r = subprocess.run(["llvm-mca-19", f"-mcpu={mcpu}", "-iterations=200", fn],
                           capture_output=True, text=True).stdout
        cyc = int(re.search(r"Total Cycles:\s+(\d+)", r).group(1)) / 200
        rt = re.search(r"Block RThroughput:\s+([\d.]+)", r).group(1)
        n = len(txt) - 1
        divs = sum("div" in t for t in txt)
        muls = sum(t.startswith("vmul") for t in txt)
        print(f"{fn} {f[0]} {hex(s)}: {n} instr, {muls} mul, {divs} div, "
              f"{cyc:.1f} cycles/iter, RThroughput {rt}")
