#!/usr/bin/env python3
"""Where a release wasm's bytes go, by crate: runs wasm-bindgen and wasm-opt -Oz as the
release build does, but keeps function names (-g), then sums twiggy's shallow sizes per
crate. Usage: bench/wasm-breakdown.py <target/.../release/NAME.wasm> [top-items]"""
import collections, csv, io, os, re, subprocess, sys, tempfile

FEATURES = ["--enable-bulk-memory", "--enable-reference-types", "--enable-nontrapping-float-to-int",
            "--enable-sign-ext", "--enable-mutable-globals", "--enable-multivalue"]

def main():
    wasm, top = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["wasm-bindgen", "--target", "web", "--out-dir", tmp, "--keep-debug", wasm], check=True)
        bg = next(os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith("_bg.wasm"))
        named = os.path.join(tmp, "named.wasm")
        subprocess.run(["wasm-opt", "-Oz", "-g", *FEATURES, bg, "-o", named], check=True)
        out = subprocess.run(["twiggy", "top", "-n", "100000", "--format", "csv", named],
                             check=True, capture_output=True, text=True).stdout
    rows = [r for r in csv.DictReader(io.StringIO(out)) if "function names" not in r["Name"]]
    by_crate = collections.Counter()
    for r in rows:
        name = re.sub(r"\[[0-9a-f]+\]", "", r["Name"].lstrip("<&").replace("dyn ", ""))
        if "data segment" in name or name.startswith("data["):
            crate = "(data: strings, tables)"
        else:
            m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)::([A-Za-z_][A-Za-z0-9_]*)", name)
            crate = m.group(1) if m else "(other)"
            if m and crate in ("leptos_oidc_auth", "leptos_oidc_spa", "leptos_reference"):
                crate = f"{crate}::{m.group(2)}"
        by_crate[crate] += int(r["ShallowSize"])
    total = sum(by_crate.values())
    print(f"{total:>9} bytes of code and data (names stripped from the count)")
    for crate, size in by_crate.most_common(25):
        print(f"{size:>9} {100 * size / total:5.1f}%  {crate}")
    if top:
        print(f"\nlargest {top} items:")
        for r in sorted(rows, key=lambda r: -int(r["ShallowSize"]))[:top]:
            print(f"{int(r['ShallowSize']):>9}  {r['Name'][:110]}")

main()
