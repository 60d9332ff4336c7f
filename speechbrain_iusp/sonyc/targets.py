"""SONYC-UST targets: how annotation rows become the tags a clip is scored on.

* train: per tag, the verified annotation (``annotator_id == 0``) where one
  exists and is not -1; otherwise positive when ANY other annotator marked
  it 1 (:func:`aggregate_train`);
* validate / test: the verified row only (:func:`verified_targets`);
* :func:`fine_mask`: 0 on the complete fine tags of a coarse class whose X
  tag is positive (the baseline's masked fine loss), else 1.

Authors
 * speechbrain-iusp developers 2026
"""

import numpy as np


def group_by_clip(rows, source="annotations.csv"):
    """Group annotation rows by clip.

    Arguments
    ---------
    rows : list of dict
        Output of :func:`speechbrain_iusp.sonyc.taxonomy.read_annotations`.
    source : str
        File name used in error messages.

    Returns
    -------
    dict
        audio_filename -> ``{"split", "fine": [(annotator_id, values)],
        "coarse": [...], "verified": index of the annotator_id 0 row or
        None}``.

    Example
    -------
    >>> r = [{"split": "train", "audio_filename": "a.wav",
    ...       "annotator_id": 5, "fine": np.zeros(29), "coarse": np.ones(8)}]
    >>> clip = group_by_clip(r)["a.wav"]
    >>> clip["split"], clip["verified"], len(clip["coarse"])
    ('train', None, 1)
    """
    clips = {}
    for row in rows:
        name = row["audio_filename"]
        clip = clips.setdefault(
            name,
            {"split": row["split"], "fine": [], "coarse": [], "verified": None},
        )
        if clip["split"] != row["split"]:
            raise ValueError(
                f"{source}: clip '{name}' is listed in splits "
                f"'{clip['split']}' and '{row['split']}'"
            )
        if row["annotator_id"] == 0:
            if clip["verified"] is not None:
                raise ValueError(
                    f"{source}: clip '{name}' has two verified rows"
                )
            clip["verified"] = len(clip["fine"])
        clip["fine"].append((row["annotator_id"], np.asarray(row["fine"])))
        clip["coarse"].append((row["annotator_id"], np.asarray(row["coarse"])))
    return clips


def aggregate_train(annotations):
    """Training target of one clip from all its annotation rows.

    Per tag: the verified value (``annotator_id == 0``) when it is 0 or 1,
    else 1 if any other row has a 1. Values -1 (not annotated) are ignored.

    Arguments
    ---------
    annotations : list of (int, numpy.ndarray)
        (annotator_id, presence values in {-1, 0, 1}) pairs.

    Returns
    -------
    numpy.ndarray
        Float targets in {0, 1}.

    Example
    -------
    >>> v = lambda *x: np.array(x)
    >>> aggregate_train([(3, v(1, 0, 0)), (-2, v(-1, -1, 0))])
    array([1., 0., 0.])
    >>> aggregate_train([(3, v(1, 1, 0)), (0, v(0, -1, 1))])
    array([0., 1., 1.])
    """
    others = [vals for ann, vals in annotations if ann != 0]
    width = len(annotations[0][1])
    any_pos = np.zeros(width, bool)
    for vals in others:
        any_pos |= np.asarray(vals) == 1
    target = any_pos
    for ann, vals in annotations:
        if ann == 0:
            vals = np.asarray(vals)
            target = np.where(vals == -1, any_pos, vals == 1)
    return target.astype(float)


def fine_mask(fine_target, taxonomy):
    """Mask of the fine loss: 0 on complete tags of a class whose X is 1.

    Arguments
    ---------
    fine_target : numpy.ndarray
        Fine targets in ``taxonomy.fine_labels`` order.
    taxonomy : Taxonomy
        The label set.

    Returns
    -------
    numpy.ndarray

    Example
    -------
    >>> from speechbrain_iusp.sonyc.taxonomy import Taxonomy
    >>> t = np.zeros(29); t[3] = 1   # 1-X engine of uncertain size
    >>> fine_mask(t, Taxonomy())[:6].tolist()
    [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    """
    names = taxonomy.fine_labels
    mask = np.ones(len(names))
    for coarse in taxonomy.coarse_labels:
        x = taxonomy.x_label(coarse)
        if x is not None and fine_target[names.index(x)] == 1:
            for lab in taxonomy.fine_of_coarse(coarse):
                mask[names.index(lab)] = 0.0
    return mask


def verified_targets(rows, split, taxonomy):
    """Ground truth of one split: the ``annotator_id == 0`` rows.

    Arguments
    ---------
    rows : list of dict
        Output of :func:`speechbrain_iusp.sonyc.taxonomy.read_annotations`.
    split : str
        ``validate`` or ``test`` (any split name of the file).
    taxonomy : Taxonomy
        The label set.

    Returns
    -------
    dict
        audio_filename -> (fine int array, coarse int array); a -1 (not
        annotated) in a verified row counts as absent.

    Example
    -------
    >>> from speechbrain_iusp.sonyc.taxonomy import Taxonomy
    >>> row = {"split": "validate", "audio_filename": "a.wav",
    ...        "annotator_id": 0, "fine": np.zeros(29, int),
    ...        "coarse": np.ones(8, int)}
    >>> gt = verified_targets([row], "validate", Taxonomy())
    >>> list(gt), int(gt["a.wav"][1].sum())
    (['a.wav'], 8)
    """
    truth = {}
    for row in rows:
        if row["split"] != split or row["annotator_id"] != 0:
            continue
        name = row["audio_filename"]
        if name in truth:
            raise ValueError(
                f"Clip '{name}' has more than one verified (annotator_id 0) "
                f"row in split '{split}'"
            )
        fine = (row["fine"] == 1).astype(int)
        coarse = (row["coarse"] == 1).astype(int)
        truth[name] = (fine, coarse)
    return truth
