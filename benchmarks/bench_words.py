"""The words engine (issue #14): sound-only vs words-only vs fused, out of scope, and what it costs.

    python benchmarks/bench_words.py MODEL DEV [--set NAME=FOLDER ...] [--oos [NAME=]FOLDER ...]
        [--validation FOLDER] [--validation-known FOLDER] [--oos-validation [NAME=]FOLDER ...]
        [--phrases PHRASES.json] [--recogniser R] [--text-encoder T] [--cache DIR]

MODEL is a sound model trained on the dataset DEV (its run_settings.json gives the split);
the words part is trained on DEV's train split (ASR transcripts; a second head also gets the typed
PHRASES), calibrated on its eval split and saved as words/ in a temporary copy of MODEL. Each --set
is an in-scope test corpus (same labels), each --oos a corpus of out-of-scope clips (sentences,
noise), --validation an in-scope corpus of new wordings by voices in neither DEV nor the test sets,
--validation-known the DEV wordings by those voices, --oos-validation out-of-scope clips by them:
the only data the defaults were chosen on (the rule tables show how). Transcripts, embeddings and sound
scores are cached under --cache, so a second run only re-times.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from intentdesk.core.threads import prepare_process

prepare_process()  # as every IntentDesk command does before torch loads: OpenMP workers wait passively

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def choose_words_weight(sound: np.ndarray, words: np.ndarray, labels: np.ndarray, t_sound: float = 1.0,
                        t_words: float = 1.0, grid: np.ndarray | None = None) -> float:
    """The weight with the lowest NLL on (sound, words, labels), a rule this benchmark compares (the app
    does not use it): only meaningful when those clips hold wordings the sound model has not heard (the
    eval split does not; see BENCHMARKS.md)."""
    from intentdesk.core.words import fusion

    grid = np.linspace(0.0, 1.0, 21) if grid is None else grid
    return float(min(grid, key=lambda w: fusion.nll(fusion.fuse(sound, words, w, t_sound, t_words), labels)))


def load_corpus(folder: Path, rate: int = 16000) -> dict:
    from intentdesk.core.audio.io import load_audio

    rows = list(csv.DictReader((folder / "metadata.csv").open(encoding="utf-8")))
    waves = [load_audio(folder / row["file_name"], rate)[0] for row in rows]
    return {"rows": rows, "waves": waves, "labels": [row["label"] for row in rows],
            "texts": [row.get("text", "") for row in rows], "name": folder.name}


def sound_scores(model: Path, corpus: dict, cache: Path) -> np.ndarray:
    """Sound-only probabilities (fp32, the pipeline's numbers), cached per model and corpus content."""
    digest = hashlib.sha1((model / "model.safetensors").read_bytes()[:1 << 20])
    for wave in corpus["waves"]:
        digest.update(wave[:4000].tobytes())
    path = cache / f"sound_{corpus['name']}_{digest.hexdigest()[:12]}.npy"
    if path.is_file():
        return np.load(path)
    from intentdesk.core.inference.classifier import Classifier

    scores = Classifier(model, device="cpu", precision="fp32").sound.scores_many(corpus["waves"], 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, scores)
    return scores


def out_of_scope_sets(tests: list[str], validations: list[str]) -> list[tuple[str, str]]:
    """(name, folder) of each out-of-scope corpus: "out of scope[ NAME]" and "out of scope (validation[ NAME])"."""
    def named(spec: str, template: str) -> tuple[str, str]:
        name, folder = spec.split("=", 1) if "=" in spec else ("", spec)
        return template.format(f" {name}" if name else ""), folder
    return [named(s, "out of scope{}") for s in tests] + [named(s, "out of scope (validation{})") for s in validations]


def word_error(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edits, reference words) after `normalise_text`."""
    from intentdesk.core.words.asr import normalise_text

    ref, hyp = normalise_text(reference).split(), normalise_text(hypothesis).split()
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        previous, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ref[i - 1] != hyp[j - 1]))
    return row[len(hyp)], len(ref)


def wer_and_exact(references: list[str], hypotheses: list[str]) -> tuple[float, float]:
    from intentdesk.core.words.asr import normalise_text

    pairs = [word_error(r, h) for r, h in zip(references, hypotheses)]
    exact = np.mean([normalise_text(r) == normalise_text(h) for r, h in zip(references, hypotheses)])
    return sum(e for e, _ in pairs) / max(1, sum(n for _, n in pairs)), float(exact)


def accuracy(probabilities: np.ndarray, truth: np.ndarray) -> float:
    return float((probabilities.argmax(axis=1) == truth).mean())


def median_seconds(call, items) -> float:
    times = []
    for item in items:
        started = time.perf_counter()
        call(item)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def main() -> None:  # noqa: PLR0915 - one linear report
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("dev", type=Path)
    parser.add_argument("--set", action="append", default=[], help="NAME=FOLDER, an in-scope test corpus")
    parser.add_argument("--oos", action="append", default=[], help="[NAME=]FOLDER, an out-of-scope test corpus")
    parser.add_argument("--validation", type=Path)
    parser.add_argument("--validation-known", type=Path)
    parser.add_argument("--oos-validation", action="append", default=[],
                        help="[NAME=]FOLDER, an out-of-scope corpus for choosing rules")
    parser.add_argument("--phrases", type=Path, help="typed example phrases {label: [text, ...]}")
    parser.add_argument("--recogniser", default="openai/whisper-tiny.en")
    parser.add_argument("--language", default="en", help="told to a multilingual recogniser ('auto': it guesses)")
    parser.add_argument("--no-prompt", action="store_true", help="no intent-name prompt for the recogniser")
    parser.add_argument("--text-encoder", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "intentdesk-bench-words")
    parser.add_argument("--timing-clips", type=int, default=48)
    parser.add_argument("--no-costs", action="store_true", help="accuracy and rule tables only")
    parser.add_argument("--dump", type=Path, help="save each corpus's per-clip scores (.npz) for other rules")
    args = parser.parse_args()

    import torch

    from intentdesk.core.data.split import split_clips
    from intentdesk.core.data.store import DatasetStore
    from intentdesk.core.inference.classifier import Classifier
    from intentdesk.core.staging import settings_file
    from intentdesk.core.words import fusion
    from intentdesk.core.words.asr import Transcriber, vocabulary_prompt
    from intentdesk.core.words.layout import save_words
    from intentdesk.core.words.pipeline import WordsModel, train_words, word_probabilities
    from intentdesk.core.words.text_encoder import TextEncoder

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    words_cache = args.cache / "words"
    labels = [json.loads((args.model / "config.json").read_text())["id2label"][str(i)]
              for i in range(len(json.loads((args.model / "config.json").read_text())["id2label"]))]
    index = {label: i for i, label in enumerate(labels)}
    settings = json.loads(settings_file(args.model).read_text())
    store = DatasetStore.open(args.dev)
    train_clips, eval_clips = split_clips(store.clips, settings.get("eval_share", 0.2), settings.get("seed", 0))
    dev = load_corpus(args.dev)
    position = {row["file_name"]: i for i, row in enumerate(dev["rows"])}
    train_i = [position[c.file_name] for c in train_clips]
    eval_i = [position[c.file_name] for c in eval_clips]
    dev_sound = sound_scores(args.model, dev, args.cache)
    corpora = {"dev eval": {"waves": [dev["waves"][i] for i in eval_i], "labels": [dev["labels"][i] for i in eval_i],
                            "texts": [dev["texts"][i] for i in eval_i], "sound": dev_sound[eval_i]}}
    for name, folder in [("validation", args.validation), ("validation known", args.validation_known)] + \
            [tuple(s.split("=", 1)) for s in args.set] + out_of_scope_sets(args.oos, args.oos_validation):
        if folder:
            corpus = load_corpus(Path(folder))
            corpus["sound"] = sound_scores(args.model, corpus, args.cache)
            corpora[name] = corpus
    print(f"sound model {args.model}, {len(train_i)} train / {len(eval_i)} eval clips of {args.dev}; "
          f"recogniser {args.recogniser} (language {args.language}, prompt {'off' if args.no_prompt else 'on'}); "
          f"text encoder {args.text_encoder}\n")

    prompt = "" if args.no_prompt else vocabulary_prompt(labels)
    asr = Transcriber(args.recogniser, prompt=prompt, language=args.language, cache_dir=words_cache)
    encoder = TextEncoder(args.text_encoder, cache_dir=words_cache)
    train_waves = [dev["waves"][i] for i in train_i]
    train_labels = [index[dev["labels"][i]] for i in train_i]
    eval_truth = np.array([index[label] for label in corpora["dev eval"]["labels"]])
    started = time.perf_counter()
    part = train_words(labels, train_waves, train_labels, corpora["dev eval"]["waves"], eval_truth,
                       corpora["dev eval"]["sound"], recogniser=asr, text_encoder=encoder)
    train_seconds = time.perf_counter() - started
    phrases = []
    if args.phrases:
        phrases = [(label, text) for label, texts in json.loads(args.phrases.read_text()).items() for text in texts]
    typed = train_words(labels, train_waves, train_labels, corpora["dev eval"]["waves"], eval_truth,
                        corpora["dev eval"]["sound"], phrases=phrases, recogniser=asr, text_encoder=encoder) \
        if phrases else None
    model_copy = Path(tempfile.mkdtemp(prefix="bench-words-model-"))  # MODEL itself is left as it is
    for item in args.model.iterdir():
        if item.is_file():
            (model_copy / item.name).symlink_to(item.resolve())
    save_words(model_copy, part.config, part.head)
    words = WordsModel.load(model_copy, labels, cache_dir=words_cache)
    fs = words.settings

    # ---------------------------------------------------------------- per-corpus scores
    results = {}
    for name, corpus in corpora.items():
        transcripts = asr.transcribe(corpus["waves"])
        embeddings = encoder.encode(transcripts)
        truth = np.array([index.get(label, -1) for label in corpus["labels"]])
        wp, similarity = word_probabilities(words.head, embeddings, transcripts)
        typed_wp = word_probabilities(typed.head, embeddings, transcripts)[0] if typed else None
        results[name] = {"truth": truth, "sound": corpus["sound"], "words": wp, "typed": typed_wp,
                         "similarity": similarity, "margin": words.head.background_margin(embeddings, similarity),
                         "transcripts": transcripts, "texts": corpus["texts"],
                         "fused": fs.fuse(corpus["sound"], wp)}
    in_scope = [name for name in results if not name.startswith("out of scope")]
    if args.dump:
        np.savez(args.dump, **{f"{name}|{key}": np.asarray(value) for name, r in results.items()
                              for key, value in r.items() if key in ("truth", "sound", "words", "fused", "similarity",
                                                                     "margin", "transcripts") and value is not None},
                 settings=np.array(json.dumps(fs.to_dict())))

    print("## Accuracy (top-1)\n")
    print("| corpus | clips | ASR WER | ASR exact | sound only | words only | words only, + typed phrases | "
          f"fused (w={fs.words_weight:.2f}) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in in_scope:
        r = results[name]
        wer, exact = wer_and_exact(r["texts"], r["transcripts"])
        typed_acc = f"{accuracy(r['typed'], r['truth']):.3f}" if typed else "-"
        print(f"| {name} | {len(r['truth'])} | {wer:.3f} | {exact:.3f} | {accuracy(r['sound'], r['truth']):.3f} | "
              f"{accuracy(r['words'], r['truth']):.3f} | {typed_acc} | **{accuracy(r['fused'], r['truth']):.3f}** |")

    print("\n## Fusion rules (fused top-1 accuracy; temperatures from the dev eval split: "
          f"T_sound {fs.t_sound:.3f}, T_words {fs.t_words:.3f})\n")
    ev = results["dev eval"]
    rules = {"sound only": 0.0, "words only": 1.0,
             "weight chosen on dev eval (NLL)": choose_words_weight(ev["sound"], ev["words"], ev["truth"],
                                                                           fs.t_sound, fs.t_words),
             "equal weight": 0.5}
    if "validation" in results:
        va = results["validation"]
        rules["weight chosen on validation (NLL)"] = choose_words_weight(
            va["sound"], va["words"], va["truth"], fs.t_sound, fs.t_words)
        grid = np.linspace(0, 1, 21)
        rules["weight chosen on dev eval + validation (NLL)"] = float(min(grid, key=lambda w: sum(
            fusion.nll(fusion.fuse(r["sound"], r["words"], w, fs.t_sound, fs.t_words), r["truth"]) for r in (ev, va))))
        if "validation known" in results:
            vk = results["validation known"]
            rules["weight chosen on validation + validation known (NLL)"] = float(min(grid, key=lambda w: sum(
                fusion.nll(fusion.fuse(r["sound"], r["words"], w, fs.t_sound, fs.t_words), r["truth"])
                for r in (va, vk))))
    rules["default (words_config.json)"] = fs.words_weight
    print("| rule | w | " + " | ".join(in_scope) + " |")
    print("|---|---|" + "---|" * len(in_scope))
    for rule, w in rules.items():
        fused = {n: fusion.fuse(results[n]["sound"], results[n]["words"], w, fs.t_sound, fs.t_words) for n in in_scope}
        cells = [f"{accuracy(fused[n], results[n]['truth']):.3f}" for n in in_scope]
        print(f"| {rule} | {w:.2f} | " + " | ".join(cells) + " |")

    print("\n## Out of scope: share of clips answered \"uncertain\"\n")
    threshold_rules = {"default (words_config.json)": (fs.min_similarity, fs.min_top, fs.min_margin),
                       "default without the background margin": (fs.min_similarity, fs.min_top, None)}
    threshold_rules["3 % of dev eval (1.5 % each)"] = (
        fusion.share_threshold(ev["similarity"], 0.015), fusion.share_threshold(ev["fused"].max(1), 0.015), None)
    if "validation" in results:
        va = results["validation"]
        threshold_rules["3 % of validation (similarity only)"] = (fusion.share_threshold(va["similarity"], 0.03), 0.0,
                                                                  None)
    tests = [name for name in in_scope if name not in ("dev eval", "validation", "validation known")]
    print("| rule | min similarity | min top | min margin | " + " | ".join(results) +
          f" | accuracy on the clips answered ({' / '.join(tests)}) |")
    print("|---|---|---|---|" + "---|" * len(results) + "---|")
    for rule, (min_sim, min_top, min_margin) in threshold_rules.items():
        rule_settings = fusion.FusionSettings(fs.words_weight, fs.t_sound, fs.t_words, min_sim, min_top, min_margin)
        shares, answered = [], []
        for name, r in results.items():
            flagged = rule_settings.uncertain(r["fused"], r["similarity"], r["margin"])
            shares.append(f"{flagged.mean():.3f}")
            if name in tests and (~flagged).any():
                answered.append(f"{accuracy(r['fused'][~flagged], r['truth'][~flagged]):.3f}")
        margin_cell = "-" if min_margin is None else f"{min_margin:.3f}"
        print(f"| {rule} | {min_sim:.3f} | {min_top:.3f} | {margin_cell} | " + " | ".join(shares) + " | "
              + " / ".join(answered) + " |")

    rule = json.loads((args.model / "config.json").read_text()).get("intentdesk", {}).get("uncertain_below")
    if rule is not None:  # the sound model's own rule, alone and beside the words part's
        defaults = fusion.FusionSettings(fs.words_weight, fs.t_sound, fs.t_words, fs.min_similarity, fs.min_top,
                                         fs.min_margin)
        for name, with_words in ((f"sound model's own rule (top < {rule:.3f})", False),
                                 ("default, or the sound model's own rule", True)):
            shares = []
            for r in results.values():
                flagged = r["sound"].max(1) < rule
                if with_words:
                    flagged |= defaults.uncertain(r["fused"], r["similarity"], r["margin"])
                shares.append(f"{flagged.mean():.3f}")
            print(f"| {name} | - | - | - | " + " | ".join(shares) + " | |")

    # ---------------------------------------------------------------- costs
    if args.no_costs:
        shutil.rmtree(model_copy)
        return
    print("\n## Costs (2 CPU threads)\n")
    tests = [name for name in in_scope if name != "dev eval"]  # timing clips: every 7th of these
    sample = [w for name in tests for w in corpora[name]["waves"]][::7][: args.timing_clips]
    sample_texts = [t for name in tests for t in corpora[name]["texts"]][::7][: args.timing_clips]
    timing = {}
    for name, kwargs in (("fitted window (default)", {}), ("30 s padding", {"fit_window": False}),
                         ("fitted window, no prompt", {"prompt": ""})):
        kwargs = {"prompt": prompt, **kwargs}
        cold = Transcriber(args.recogniser, cache_dir=False, language=args.language, **kwargs)
        started = time.perf_counter()
        texts = cold.transcribe(sample)
        timing[name] = (time.perf_counter() - started) / len(sample)
        wer, exact = wer_and_exact(sample_texts, texts)
        print(f"- ASR {name}, cold, batches of 8: {timing[name] * 1000:.0f} ms/clip; WER {wer:.3f}, "
              f"exact {exact:.3f} on these {len(sample)} clips")
    started = time.perf_counter()
    asr.transcribe(sample)
    print(f"- ASR cached: {(time.perf_counter() - started) / len(sample) * 1000:.2f} ms/clip")
    cold = Transcriber(args.recogniser, cache_dir=False, prompt=prompt, language=args.language)
    plain_encoder = TextEncoder(args.text_encoder, cache_dir=False)
    one_asr = median_seconds(lambda w: cold.transcribe([w]), sample[:20])
    one_text = median_seconds(lambda t: plain_encoder.encode([t + " "]), sample_texts[:20])
    one_head = median_seconds(lambda e: (words.settings.fuse(np.full((1, len(labels)), 1 / len(labels), np.float32),
                                                            words.head.probabilities(e)),
                                         words.head.background_margin(e)),
                              [encoder.encode([t]) for t in sample_texts[:20]])
    classifier = Classifier(args.model, device="cpu", precision="fp32")
    one_sound = median_seconds(lambda w: classifier.sound.scores([w]), sample[:20])
    print(f"- one clip at a time (median of 20): sound model {one_sound * 1000:.0f} ms; added by words: "
          f"ASR {one_asr * 1000:.0f} ms + text encoder {one_text * 1000:.1f} ms + head, background margin and "
          f"fusion {one_head * 1000:.2f} ms = **{(one_asr + one_text + one_head) * 1000:.0f} ms**")
    print(f"- words part training on {len(train_i)} clips with cached transcripts: {train_seconds:.1f} s "
          f"(head alone {part.head.info['seconds']:.2f} s, {part.head.info['steps']} L-BFGS evaluations)")
    started = time.perf_counter()
    train_words(labels, train_waves, train_labels, corpora["dev eval"]["waves"], eval_truth,
                corpora["dev eval"]["sound"], recogniser=cold, text_encoder=plain_encoder)
    print(f"- the same from cold (every train and eval clip transcribed, every text embedded): "
          f"{time.perf_counter() - started:.0f} s")
    print(f"- words part on disk (MODEL/words/): "
          f"{sum(p.stat().st_size for p in (model_copy / 'words').iterdir()) / 1024:.0f} KiB")
    shutil.rmtree(model_copy)


if __name__ == "__main__":
    main()
