"""The start of a recipe's run, shared by the recipes' ``train.py``.

Authors
 * speechbrain-iusp developers 2026
"""

import contextlib
import time
from pathlib import Path

import speechbrain as sb
from speechbrain.utils.distributed import if_main_process

from speechbrain_iusp.runs.hparams import load_hparams
from speechbrain_iusp.runtime import (
    check_run_opts,
    folder_lock,
    resolve_precision,
    tune_cpu_allocator,
)


def recipe_hparams(hparams_file, overrides, recipe_dir):
    """Loads a hparams file given relative to the cwd or to the recipe.

    Bases (``base: student.yaml``) are looked up in ``recipe_dir/hparams``.

    Arguments
    ---------
    hparams_file : str
        The file, e.g. ``hparams/iusp.yaml``.
    overrides : str or dict
        The command line's overrides.
    recipe_dir : str or Path
        The recipe's folder.

    Returns
    -------
    tuple
        The file's path and the loaded hparams.

    Example
    -------
    >>> recipe = Path(getfixture("tmpdir"))
    >>> (recipe / "hparams").mkdir()
    >>> _ = (recipe / "hparams" / "a.yaml").write_text("x: 1\\n")
    >>> recipe_hparams("hparams/a.yaml", "x: 2", recipe)[1]
    {'x': 2}
    >>> recipe_hparams("hparams/b.yaml", None, recipe)
    Traceback (most recent call last):
    ...
    FileNotFoundError: Hyperparameter file 'hparams/b.yaml' not found ...
    """
    recipe_dir = Path(recipe_dir)
    for cand in (Path(hparams_file), recipe_dir / hparams_file):
        if cand.is_file():
            path = str(cand)
            return path, load_hparams(
                path, overrides, search=[recipe_dir / "hparams"]
            )
    raise FileNotFoundError(
        f"Hyperparameter file '{hparams_file}' not found in the current "
        f"folder or in {recipe_dir}. Use e.g. hparams/iusp.yaml."
    )


def run_recipe(argv, recipe_dir, run):
    """Starts one run of a recipe the way every SpeechBrain recipe does.

    Tunes the CPU allocator, parses the arguments, joins the DDP group,
    loads the hparams (with their base), resolves ``precision: auto``,
    then calls ``run(hparams_file, run_opts, overrides, hparams, argv,
    start)`` with the output folder locked (one process per run folder).

    Arguments
    ---------
    argv : list of str
        The command line, without the program name.
    recipe_dir : str or Path
        The recipe's folder.
    run : callable
        The recipe's run function.

    Returns
    -------
    object
        What ``run`` returns.
    """
    start = time.time()
    tune_cpu_allocator()
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
    check_run_opts(run_opts)
    sb.utils.distributed.ddp_init_group(run_opts)
    hparams_file, hparams = recipe_hparams(hparams_file, overrides, recipe_dir)
    resolve_precision(hparams, run_opts)
    lock = (
        folder_lock(hparams["output_folder"])
        if if_main_process()
        else contextlib.nullcontext()
    )
    with lock:
        return run(hparams_file, run_opts, overrides, hparams, argv, start)
