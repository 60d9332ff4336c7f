"""The tagger as a product: the model folder a run writes, AudioTagger, the
tag and export command lines, ONNX, windows, and bad input.

Authors
 * speechbrain-iusp developers 2026
"""

import csv
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from speechbrain.inference.interfaces import foreign_class

from speechbrain_iusp.inference import AudioTagger, OnnxTagger


@pytest.fixture(scope="module")
def run(recipe, tiny_corpus, tmp_path_factory):
    """A finished (debug) baseline run on the tiny corpus, and its data."""
    base = tmp_path_factory.mktemp("product")
    data = tiny_corpus(5)
    out = recipe.run(
        [
            recipe.train,
            "hparams/baseline.yaml",
            f"--data_folder={data}",
            f"--output_root={base / 'results'}",
            "--student_size=tiny",
            "--debug",
            "--debug_persistently",
            "--noprogressbar",
        ]
    )
    folder = base / "results" / "baseline_tiny" / "1234"
    assert "python -m speechbrain_iusp.tag --model" in out
    return folder, data


@pytest.fixture(scope="module")
def exported(recipe, run, tmp_path_factory):
    """The run exported with ONNX, int8 and validate thresholds."""
    folder, _ = run
    model_dir = tmp_path_factory.mktemp("export") / "model"
    recipe.run(
        [
            "-m",
            "speechbrain_iusp.export",
            folder,
            model_dir,
            "--onnx",
            "--quantize",
            "int8",
            "--thresholds",
            "validate",
        ]
    )
    return model_dir, json.loads((model_dir / "export.json").read_text())


def _test_wavs(data):
    return sorted((data / "audio-eval").glob("*.wav"))


def test_the_run_writes_a_model_folder_that_tags_like_the_run(run):
    folder, data = run
    model_dir = folder / "model"
    for name in ("hyperparams.yaml", "model.ckpt", "custom.py", "README.md"):
        assert (model_dir / name).is_file(), name
    card = (model_dir / "README.md").read_text()
    assert "synthetic, NOT SONYC-UST" in card and "micro-AUPRC" in card
    tagger = AudioTagger.from_hparams(
        source=str(model_dir), savedir=str(model_dir)
    )
    with open(folder / "predictions_test.csv", newline="") as fin:
        rows = list(csv.DictReader(fin))
    assert len(rows) == len(_test_wavs(data))
    for row in rows:
        result = tagger.tag_file(data / "audio-eval" / row["audio_filename"])
        for tag in tagger.tags:
            assert abs(result["scores"][tag] - float(row[tag])) <= 1e-5
        assert len(result["timeline"]) == 1
    # the batch interface gives the same numbers
    wav, _ = sf.read(data / "audio-eval" / rows[0]["audio_filename"])
    probs, tags = tagger.tag_batch(torch.tensor(wav, dtype=torch.float32)[None])
    assert probs.shape == (1, 37) and tags == tagger.tags
    assert abs(float(probs[0, 0]) - float(rows[0][tags[0]])) <= 1e-5


def test_tag_cli_csv_scores_like_the_run(recipe, run, exported, tmp_path):
    folder, data = run
    model_dir, _ = exported
    metrics = json.loads((folder / "metrics.json").read_text())
    for backend in ("torch", "onnx"):
        out_csv = tmp_path / f"{backend}.csv"
        out = recipe.run(
            [
                "-m",
                "speechbrain_iusp.tag",
                "--model",
                model_dir,
                data / "audio-eval",
                "--csv",
                out_csv,
                "--backend",
                backend,
            ]
        )
        assert out.count(".wav:") == len(_test_wavs(data))
        for mode in ("coarse", "fine"):
            scored = tmp_path / f"{backend}_{mode}.json"
            recipe.run(
                [
                    "-m",
                    "speechbrain_iusp.evaluate",
                    out_csv,
                    data / "annotations.csv",
                    "--split",
                    "test",
                    "--mode",
                    mode,
                    "--json",
                    scored,
                ]
            )
            got = json.loads(scored.read_text())
            want = metrics["test"][mode]
            # the torch backend is the run's model; ONNX is within 1e-4
            tol = 1e-9 if backend == "torch" else 1e-3
            assert abs(got["micro_auprc"] - want["micro_auprc"]) <= tol


def test_export_checks_onnx_at_every_length(exported):
    model_dir, report = exported
    onnx = report["onnx"]
    assert onnx["time_axis"] == "dynamic"
    assert set(onnx["max_abs_diff_vs_pytorch"]) == {"3 s", "10 s", "30 s"}
    assert max(onnx["max_abs_diff_vs_pytorch"].values()) <= 1e-4
    assert (model_dir / "model.int8.onnx").stat().st_size < (
        model_dir / "model.onnx"
    ).stat().st_size
    thresholds = AudioTagger.from_hparams(
        source=str(model_dir), savedir=str(model_dir)
    ).thresholds
    assert thresholds.shape == (37,) and not bool((thresholds == 0.5).all())


def test_foreign_class_loads_the_folder(run):
    folder, data = run
    tagger = foreign_class(
        source=str(folder / "model"),
        pymodule_file="custom.py",
        classname="AudioTagger",
        savedir=str(folder / "model"),
    )
    result = tagger.tag_file(_test_wavs(data)[0])
    assert set(result["scores"]) == set(tagger.tags)


def test_long_recording_is_tagged_in_windows(run, tmp_path):
    folder, data = run
    tagger = AudioTagger.from_hparams(
        source=str(folder / "model"), savedir=str(folder / "model")
    )
    clips = [sf.read(p, dtype="float32")[0] for p in _test_wavs(data)[:4]]
    long = np.concatenate(clips)[: 35 * 44100]
    path = tmp_path / "long.wav"
    sf.write(path, np.stack([long, long], 1), 44100)  # stereo
    result = tagger.tag_file(path, progress=True)
    starts = [w["start"] for w in result["timeline"]]
    assert starts == [0.0, 5.0, 10.0, 15.0, 20.0, 25.0]
    assert result["timeline"][-1]["end"] == 35.0
    for tag in tagger.tags:
        best = max(w["scores"][tag] for w in result["timeline"])
        assert result["scores"][tag] == pytest.approx(best)
    # the window that is one clip scores like that clip alone
    alone = tagger.tag_file(_test_wavs(data)[1])["scores"]
    for tag in tagger.tags[:5]:
        assert result["timeline"][2]["scores"][tag] == pytest.approx(
            alone[tag], abs=1e-5
        )
    # any rate: the same clip at 48 kHz is resampled
    resampled = tmp_path / "48k.wav"
    wav = np.interp(
        np.arange(480000) * 44100 / 48000, np.arange(441000), clips[0]
    )
    sf.write(resampled, wav, 48000)
    assert len(tagger.tag_file(resampled)["scores"]) == 37


def test_bad_input_is_named(recipe, run, tmp_path):
    folder, data = run
    model_dir = folder / "model"
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0), 44100)
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(4410), 44100)  # 0.1 s
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"not audio")
    good = _test_wavs(data)[0]
    missing = tmp_path / "missing.wav"
    code, out = recipe.call(
        [
            "-m",
            "speechbrain_iusp.tag",
            "--model",
            model_dir,
            missing,
            garbage,
            empty,
            short,
            good,
        ],
    )
    assert code == 1  # some files could not be tagged, the others were
    assert f"{missing}: no such file" in out
    assert f"{garbage}: unreadable audio" in out
    assert f"{empty}: empty audio" in out
    assert f"{short}: 0.100 s of audio; the tagger needs at least" in out
    assert f"{good}: tags" in out or f"{good}: no tag" in out
    assert "Traceback" not in out
    broken = tmp_path / "broken_model"
    broken.mkdir()
    (broken / "hyperparams.yaml").write_text(
        (model_dir / "hyperparams.yaml").read_text()
    )
    code, out = recipe.call(
        ["-m", "speechbrain_iusp.tag", "--model", broken, good]
    )
    assert code == 2
    assert "not a complete model folder: no ['model.ckpt']" in out
    code, out = recipe.call(
        ["-m", "speechbrain_iusp.export", tmp_path, tmp_path / "m"],
    )
    assert code == 2 and "not a finished run" in out


def _tagger(model_dir):
    return AudioTagger.from_hparams(
        source=str(model_dir), savedir=str(model_dir)
    )


def _tag(recipe, model_dir, *args):
    return recipe.call(
        ["-m", "speechbrain_iusp.tag", "--model", model_dir, *args],
    )


def test_load_audio_and_tag_batch_equal_tag_file(run, tmp_path):
    folder, data = run
    tagger = _tagger(folder / "model")
    clip = _test_wavs(data)[0]
    assert sf.info(clip).samplerate == 44100
    want = tagger.tag_file(clip)["scores"]
    wav = tagger.load_audio(str(clip))
    assert wav.dim() == 1 and wav.shape[0] == sf.info(clip).frames
    probs, tags = tagger.tag_batch(wav[None])
    for j, tag in enumerate(tags):
        assert abs(float(probs[0, j]) - want[tag]) <= 1e-5
    # a 16 kHz tensor, told its rate, tags like the 16 kHz file it came from
    import torchaudio

    wav16 = torchaudio.functional.resample(wav, 44100, 16000)
    path16 = tmp_path / "clip16k.wav"
    sf.write(path16, wav16.numpy(), 16000, subtype="FLOAT")
    from_file = tagger.tag_file(path16)
    probs16, _ = tagger.tag_batch(wav16[None], sample_rate=16000)
    for j, tag in enumerate(tags):
        assert abs(float(probs16[0, j]) - from_file["scores"][tag]) <= 1e-4
    assert tagger.classify_batch(wav16[None], sample_rate=16000)[3] == [
        from_file["tags"]
    ]
    # a folder exported before audio_normalizer was written gets one
    old = tmp_path / "old_model"
    old.mkdir()
    for name in ("model.ckpt", "custom.py"):
        (old / name).write_bytes((folder / "model" / name).read_bytes())
    text = (folder / "model" / "hyperparams.yaml").read_text()
    start = text.index("audio_normalizer:")
    end = text.index("compute_features:")
    (old / "hyperparams.yaml").write_text(text[:start] + text[end:])
    older = _tagger(old)
    assert older.audio_normalizer.sample_rate == 44100
    assert torch.equal(older.load_audio(str(clip)), wav)


def test_tag_batch_refuses_what_it_cannot_read(run):
    folder, data = run
    tagger = _tagger(folder / "model")
    wav = tagger.load_audio(str(_test_wavs(data)[0]))
    batch = torch.stack([wav, wav])
    with pytest.raises(ValueError, match="relative lengths in .0, 1.*divide"):
        tagger.tag_batch(batch, torch.tensor([88.0, 44.0]))
    with pytest.raises(ValueError, match=r"must have shape \[2\]"):
        tagger.tag_batch(batch, torch.tensor([1.0]))
    with pytest.raises(ValueError, match=r"add the batch axis"):
        tagger.tag_batch(wav)
    with pytest.raises(ValueError, match=r"average the channels"):
        tagger.tag_batch(batch[..., None])
    with pytest.raises(ValueError, match="positive whole number"):
        tagger.tag_batch(batch, sample_rate=-16000)
    with pytest.raises(ValueError, match="NaN or inf samples .items .1.."):
        tagger.tag_batch(torch.stack([wav, wav * float("nan")]))
    with pytest.raises(ValueError, match="item 1 holds 0.100 s"):
        tagger.tag_batch(batch, torch.tensor([1.0, 4410 / wav.shape[0]]))
    # relative lengths: a padded item scores like the item alone
    half = wav.shape[0] // 2
    padded = batch.clone()
    padded[1, half:] = 0
    probs, _ = tagger.tag_batch(
        padded, torch.tensor([1.0, half / wav.shape[0]])
    )
    alone, _ = tagger.tag_batch(wav[None, :half])
    assert torch.allclose(probs[1], alone[0], atol=1e-5)


def test_speechbrain_classifier_names(run):
    folder, data = run
    tagger = _tagger(folder / "model")
    clip = _test_wavs(data)[0]
    result = tagger.tag_file(clip)
    probs, score, index, labels = tagger.classify_file(str(clip))
    assert probs.shape == (1, 37) and labels == [result["tags"]]
    assert float(score[0]) == pytest.approx(max(result["scores"].values()))
    assert tagger.tags[int(index[0])] in result["scores"]
    wav = tagger.load_audio(str(clip))[None]
    out = tagger(wav)  # forward, as SpeechBrain's classifiers have it
    assert torch.allclose(out[0], probs, atol=1e-5) and out[3] == labels


def test_onnx_backend_runs_without_the_yaml(recipe, run, exported, tmp_path):
    folder, data = run
    model_dir, _ = exported
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("model.onnx", "tagger.json"):
        (bare / name).write_bytes((model_dir / name).read_bytes())
    onnx = OnnxTagger(bare)
    torch_tagger = _tagger(model_dir)
    assert onnx.tags == torch_tagger.tags
    assert torch.equal(onnx.thresholds, torch_tagger.thresholds)
    clip = _test_wavs(data)[1]
    a, b = torch_tagger.tag_file(clip), onnx.tag_file(clip)
    assert max(abs(a["scores"][t] - b["scores"][t]) for t in onnx.tags) < 1e-4
    # a padded batch: each item on its own valid frames
    wav = onnx.load_audio(str(clip))
    batch = torch.stack([wav, wav])
    lens = torch.tensor([1.0, 0.5])
    got, _ = onnx.tag_batch(batch, lens)
    want, _ = torch_tagger.tag_batch(batch, lens)
    assert torch.allclose(got, want, atol=1e-4)
    code, out = _tag(recipe, bare, clip, "--backend", "onnx")
    assert code == 0 and f"{clip}: " in out
    code, out = _tag(recipe, bare, clip)  # the torch backend needs the YAML
    assert code == 2 and "no ['hyperparams.yaml', 'model.ckpt']" in out
    (bare / "model.onnx").write_bytes(b"not a graph")
    code, out = _tag(recipe, bare, clip, "--backend", "onnx")
    assert code == 2 and f"{bare / 'model.onnx'}: not a readable ONNX" in out
    assert "Traceback" not in out
    (bare / "tagger.json").write_text("{")
    with pytest.raises(ValueError, match="tagger.json: not readable JSON"):
        OnnxTagger(bare)


def test_tag_cli_checks_before_tagging(recipe, run, tmp_path):
    folder, data = run
    model_dir = folder / "model"
    wavs = _test_wavs(data)
    for sub, src in (("a", wavs[0]), ("b", wavs[1])):
        (tmp_path / "in" / sub).mkdir(parents=True)
        (tmp_path / "in" / sub / "x.wav").write_bytes(src.read_bytes())
    # the output folder is created; clashing names get unique row keys
    out_csv = tmp_path / "new" / "deeper" / "p.csv"
    code, out = _tag(recipe, model_dir, tmp_path / "in", "--csv", out_csv)
    assert code == 0, out
    assert "keyed by its path relative to" in out
    with open(out_csv, newline="") as fin:
        keys = [row["audio_filename"] for row in csv.DictReader(fin)]
    assert keys == ["a/x.wav", "b/x.wav"]
    # an output path that cannot be written stops everything before tagging
    (tmp_path / "afile").write_text("")
    code, out = _tag(
        recipe, model_dir, wavs[0], "--json", tmp_path / "afile" / "j"
    )
    assert code == 2 and "is a file, not a folder" in out
    assert f"{wavs[0]}:" not in out
    code, out = _tag(recipe, model_dir, wavs[0], "--csv", tmp_path)
    assert code == 2 and "is a folder; give a file name" in out
    code, out = _tag(recipe, model_dir, wavs[0], "--hop", "0")
    assert code == 2 and "--hop must be > 0" in out
    # nothing to tag
    code, out = _tag(recipe, model_dir, tmp_path / "nothing.wav")
    assert code == 2 and "no such file or folder" in out
    # a damaged weights file is named, with the fix
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for name in ("hyperparams.yaml", "model.ckpt"):
        (damaged / name).write_bytes((model_dir / name).read_bytes())
    ckpt = damaged / "model.ckpt"
    ckpt.write_bytes(ckpt.read_bytes()[:2000])
    code, out = _tag(recipe, damaged, wavs[0])
    assert code == 2 and f"{ckpt}: the weights file is truncated" in out
    assert "python -m speechbrain_iusp.export RUN_FOLDER" in out
    assert "Traceback" not in out
