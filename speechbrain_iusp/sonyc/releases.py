"""SONYC-UST releases: where to download them, and how to get them by hand.

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.sonyc.download import fetch

_ZENODO = "https://zenodo.org/record/{record}/files/{name}"


def _entry(record, name, md5=None, size=None):
    """One file of a release's table."""
    return {
        "name": name,
        "url": _ZENODO.format(record=record, name=name),
        "md5": md5,
        "size": size,
        "extract": name.endswith(".tar.gz"),
    }


# v1.0, the DCASE 2019 Task 5 release (Zenodo record 3338310). No checksums
# are published for it in any source read here: the download is then
# checked by its announced length and by opening the archives.
SONYC_UST_V1_FILES = [
    _entry("3338310", name)
    for name in (
        "annotations.csv",
        "dcase-ust-taxonomy.yaml",
        "README.md",
        "audio-dev.tar.gz",
        "audio-eval.tar.gz",
    )
]

# v2.3 (Zenodo record 3966543): md5 checksums as published in the soundata
# project's index of this release; sizes where known.
_V2_3_MD5 = {
    "annotations.csv": "70b507b15bb4cfcce4870925302f276b",
    "dcase-ust-taxonomy.yaml": "6c1cca1c4c383a6ebb0cb71cb74fe3a9",
    "audio-0.tar.gz": "bbb4dbae7d2e58e18d24878b9ee1eb51",
    "audio-1.tar.gz": "7c369ff37ac6a1fdd8493fdffe62e0a1",
    "audio-2.tar.gz": "412241c063d7f196953d3dd1c44aeb5e",
    "audio-3.tar.gz": "d2a872392d95993a2c238d305b940812",
    "audio-4.tar.gz": "b15b0e0cb3f8584259ef0d24293a9be3",
    "audio-5.tar.gz": "de745f887067433757a2f2c8f99f99bb",
    "audio-6.tar.gz": "b0286c67468369d66336f6f5ddede31f",
    "audio-7.tar.gz": "ff300183ab7a9d3f2f74c3b730ffeb52",
    "audio-8.tar.gz": "7be76b821fa6dbe20f6b50ca440e1024",
    "audio-9.tar.gz": "959f7edfbb26eadad9865069f38aa9dd",
    "audio-10.tar.gz": "84e94de273666c537a3e6b709ee88d9b",
    "audio-11.tar.gz": "44fe1f43121a7d1178aa0cdf7477793b",
    "audio-12.tar.gz": "a7eb21011f460b5ac289f8e285e875ab",
    "audio-13.tar.gz": "27945a8b1008eec787f97213164951e6",
    "audio-14.tar.gz": "fb8c7d81c3bde3a0c86c1e55e6a85a24",
    "audio-15.tar.gz": "f6af9b65d876ef96d199b9e5f0473cb9",
    "audio-16.tar.gz": "e8337c61a90c30989d500f950fbe443a",
    "audio-17.tar.gz": "3e47e85eb4564a30fe7f442ee97ec7b9",
    "audio-18.tar.gz": "c6b2ef4d0d5b7269d465c469cdbbdc4b",
}
_V2_3_SIZES = {
    "annotations.csv": 14_488_305,
    "dcase-ust-taxonomy.yaml": 1_081,
    "audio-0.tar.gz": 721_618_074,
}
SONYC_UST_V2_3_FILES = [
    _entry("3966543", name, md5, _V2_3_SIZES.get(name))
    for name, md5 in _V2_3_MD5.items()
]

RELEASES = {
    "1.0": {"record": "3338310", "files": SONYC_UST_V1_FILES},
    "2.3": {"record": "3966543", "files": SONYC_UST_V2_3_FILES},
}
"""SONYC-UST releases the recipe can download: version -> Zenodo record and
file table."""


def release_files(version):
    """The file table of a release version (``"1.0"`` or ``"2.3"``).

    Arguments
    ---------
    version : str or float
        The version, e.g. ``"2.3"`` (``2.3`` from a YAML override works).

    Returns
    -------
    list of dict

    Example
    -------
    >>> len(release_files(2.3)), release_files("1.0")[0]["name"]
    (21, 'annotations.csv')
    """
    key = str(version)
    if key == "1":
        key = "1.0"
    if key not in RELEASES:
        raise ValueError(
            f"Unknown SONYC-UST version {version!r}; the recipe downloads "
            f"{', '.join(sorted(RELEASES))}."
        )
    return RELEASES[key]["files"]


def manual_instructions(data_folder, files=None):
    """How to get a release by hand (an error message's second half).

    Arguments
    ---------
    data_folder : str
        Where the files belong.
    files : list of dict, optional
        File table (default :data:`SONYC_UST_V1_FILES`).

    Returns
    -------
    str
    """
    files = files or SONYC_UST_V1_FILES
    listing = "\n".join(f"  {f['url']}" for f in files)
    archives = "; ".join(
        f"tar xzf {f['name']}" for f in files if f.get("extract")
    )
    return (
        f"Get these files of SONYC-UST by hand:\n{listing}\nput them in "
        f"{data_folder} and extract the archives there ({archives}), "
        "giving annotations.csv, dcase-ust-taxonomy.yaml and the audio "
        "folders. Or pass download=True (--download True; --version 2.3 for "
        "the v2.3 release)."
    )


def download_release(data_folder, files):
    """Download a release's files into ``data_folder`` (manual fallback).

    Arguments
    ---------
    data_folder : str
        Where the files go (archives are extracted there).
    files : list of dict
        File table, e.g. :data:`SONYC_UST_V1_FILES`.
    """
    try:
        fetch(files, data_folder)
    except OSError as err:  # URLError, timeouts, refused connections
        raise RuntimeError(
            f"Download failed ({err}). "
            + manual_instructions(data_folder, files)
        ) from err
