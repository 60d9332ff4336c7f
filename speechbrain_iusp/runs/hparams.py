"""Hparams files with a base: one shared file, per-method deltas.

A hparams file may start from another one: ``base: student.yaml`` (a path
relative to the file, else looked up in the given search folders) is that
base with each of the file's other top-level keys put in its place: a key of
the base takes the file's value (replaced whole), a new key is added at the
end. Bases can have bases. The command line's overrides then apply as to
any hyperpyyaml file (a misspelt key is refused). A method's file thus holds
only what differs (its name, its distillation terms), and every setting
shared by the methods lives once, in the base. A file without ``base`` is an
ordinary hyperpyyaml file.

Authors
 * speechbrain-iusp developers 2026
"""

import io
from pathlib import Path

import ruamel.yaml
import yaml
from hyperpyyaml import load_hyperpyyaml, resolve_references

BASE_KEY = "base"


def _yaml():
    return ruamel.yaml.YAML()  # round trip: tags, order and comments kept


def _find_base(path, name, search):
    """The base file named in ``path``: next to it, else in ``search``."""
    for folder in (path.parent, *map(Path, search)):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"{path}: base: {name} not found next to it or in "
        f"{[str(s) for s in search]}; give its path relative to {path.parent}"
    )


def merged_yaml(path, search=()):
    """The YAML text of a hparams file with its bases merged in.

    Arguments
    ---------
    path : str
        A hparams file.
    search : list of str
        Folders where a base not found next to its file is looked up.

    Returns
    -------
    str

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> _ = (tmp / "base.yaml").write_text("a: 1  # one\\nb: !ref <a>\\n")
    >>> _ = (tmp / "m.yaml").write_text("base: base.yaml\\na: 2\\nc: 3\\n")
    >>> print(merged_yaml(tmp / "m.yaml"))  # comments stay with their key
    a: 2  # one
    b: !ref <a>
    c: 3
    <BLANKLINE>
    """
    path = Path(path)
    deltas, seen = [], set()
    while True:
        if path.resolve() in seen:
            raise ValueError(f"{path}: its base chain comes back to itself")
        seen.add(path.resolve())
        with open(path) as fin:
            doc = _yaml().load(fin)
        if not isinstance(doc, dict) or BASE_KEY not in doc:
            break
        name = str(doc.pop(BASE_KEY))
        deltas.append(doc)
        path = _find_base(path, name, search)
    if not deltas:
        return Path(path).read_text()
    for delta in reversed(deltas):
        for key, value in delta.items():
            doc[key] = value
    buf = io.StringIO()
    _yaml().dump(doc, buf)
    return buf.getvalue()


def load_hparams(path, overrides=None, search=()):
    """Loads a hparams file (with its bases) as hyperpyyaml does.

    Arguments
    ---------
    path : str
        A hparams file.
    overrides : str or dict, optional
        The command line's overrides (each must name an existing key).
    search : list of str
        Folders where bases are looked up.

    Returns
    -------
    dict

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> _ = (tmp / "base.yaml").write_text("a: 1\\nb: !ref <a> + 1\\n")
    >>> _ = (tmp / "m.yaml").write_text("base: base.yaml\\na: 2\\n")
    >>> load_hparams(tmp / "m.yaml", "b: 7")
    {'a': 2, 'b': 7}
    """
    return load_hyperpyyaml(merged_yaml(path, search), overrides)


def resolved_text(path, overrides=None, search=()):
    """The file's YAML with its bases merged and ``!ref`` resolved (what
    SpeechBrain saves into a run folder), without building any object.

    Arguments
    ---------
    path : str
        A hparams file.
    overrides : str or dict, optional
        The command line's overrides.
    search : list of str
        Folders where bases are looked up.

    Returns
    -------
    str
    """
    return resolve_references(merged_yaml(path, search), overrides).getvalue()


def hparams_values(path, overrides=None, search=()):
    """The top-level values of a hparams file, without building its objects.

    ``!ref`` values are resolved; tagged values (``!new:`` ...) read as None.

    Arguments
    ---------
    path : str
        A hparams file.
    overrides : str or dict, optional
        The command line's overrides.
    search : list of str
        Folders where bases are looked up.

    Returns
    -------
    dict

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> text = "a: 1\\nb: !ref <a>\\nc: !new:collections.OrderedDict\\n"
    >>> _ = (tmp / "h.yaml").write_text(text)
    >>> hparams_values(tmp / "h.yaml")
    {'a': 1, 'b': 1, 'c': None}
    """

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    text = resolved_text(path, overrides, search)
    return yaml.load(text, Loader=_Loader)
