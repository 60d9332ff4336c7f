"""Figures of a distillation study (matplotlib, written to files).

Authors
 * speechbrain-iusp developers 2026
"""

import logging
import textwrap

logger = logging.getLogger(__name__)

__all__ = ["plot_auprc_vs_params", "plot_similarities"]


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("matplotlib is not installed: no figure written")
        return None
    return plt


def plot_auprc_vs_params(points, path, title, ylabel="test micro-AUPRC"):
    """AUPRC (mean ± std over seeds) against parameters, a line per method.

    Arguments
    ---------
    points : dict
        method -> list of (params, mean, std).
    path : str or Path
        The PNG to write.
    title : str
        Figure title (says which data).
    ylabel : str
        Y axis label.

    Returns
    -------
    Path or None
        The file, or None without matplotlib.
    """
    plt = _pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for method, pts in points.items():
        if not pts:
            continue
        x, y, e = zip(*sorted(pts), strict=True)
        ax.errorbar(x, y, yerr=e, marker="o", capsize=3, label=method)
    ax.set_xscale("log")
    ax.set_xlabel("student parameters")
    ax.set_ylabel(ylabel)
    ax.set_title("\n".join(textwrap.wrap(title, 60)), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_similarities(rows, columns, path, title):
    """A grid of T x T similarity matrices: a row per clip.

    Arguments
    ---------
    rows : list of (str, list of numpy.ndarray)
        (clip label, one ``[T, T]`` matrix per column).
    columns : list of str
        Column titles (e.g. teacher, student without and with IUSP).
    path : str or Path
        The PNG to write.
    title : str
        Figure title.

    Returns
    -------
    Path or None
    """
    plt = _pyplot()
    if plt is None:
        return None
    n_rows, n_cols = len(rows), len(columns)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(3 * n_cols, 3 * n_rows), squeeze=False
    )
    for r, (label, mats) in enumerate(rows):
        for c, mat in enumerate(mats):
            ax = axes[r][c]
            ax.imshow(mat, cmap="viridis", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(columns[c], fontsize=9)
            if c == 0:
                ax.set_ylabel("\n".join(textwrap.wrap(label, 28)), fontsize=7)
    fig.suptitle("\n".join(textwrap.wrap(title, 90)), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
