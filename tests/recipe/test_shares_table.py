"""shares.py's table, from run folders the test writes (no training).

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.runs import RunFolder


def _run(root, name, seed, auprc, log_key, log_values):
    folder = RunFolder(root / name / str(seed))
    folder.write_metrics({"test": {"coarse": {"micro_auprc": auprc}}})
    lines = [
        f"epoch: {i + 1} - train loss: 1.0, train {log_key}: {v} - valid "
        f"loss: 1.0"
        for i, v in enumerate(log_values)
    ]
    (folder.path / "train_log.txt").write_text("\n".join(lines) + "\n")


def test_table_from_finished_runs(tmp_path, recipe):
    fixed = {1: 0.50, 2: 0.52, 3: 0.54}  # std 0.02
    shared = {1: 0.53, 2: 0.53, 3: 0.56}  # mean +0.02 over fixed's
    for seed in (1, 2, 3):
        _run(tmp_path, "iusp_tiny", seed, fixed[seed], "iusp_share", [0.9, 0.8])
        _run(
            tmp_path,
            "iusp_share0.7_tiny",
            seed,
            shared[seed],
            "iusp_weight",
            [100.0, 250.0 * seed],
        )
    # fmt: skip
    table = tmp_path / "table.md"
    recipe.run(
        [
            recipe.dir / "shares.py",
            "--share", "0.7",
            "--sizes", "tiny",
            "--methods", "iusp",
            "--output_root", tmp_path,
            "--table", table,
        ]
    )  # fmt: skip
    row = table.read_text().splitlines()[2]
    assert row == (
        "| iusp | tiny | 0.5200 ± 0.0200 | 0.80 | 0.5400 ± 0.0173 | 500 | "
        "+0.0200 | yes |"
    )


def test_an_unfinished_run_is_named(tmp_path, recipe):
    code, out = recipe.call(
        [
            recipe.dir / "shares.py",
            "--share", "0.5",
            "--sizes", "tiny",
            "--methods", "sp",
            "--output_root", tmp_path,
        ]
    )  # fmt: skip
    assert code != 0 and "sp_tiny/1 is not a finished run" in out
