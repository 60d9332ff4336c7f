"""SONYC-UST releases: where to download them, and how to get them by hand.

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.sonyc.download import fetch

ZENODO_RECORD = "3338310"  # SONYC-UST v1.0 (DCASE 2019 Task 5)
_ZENODO = f"https://zenodo.org/record/{ZENODO_RECORD}/files"
# File table of the v1.0 release. File names and URLs: the release's Zenodo
# record as cited by public download scripts. The md5/size fields are not
# published in any source we could read offline: fill them in from
# https://zenodo.org/api/records/3338310 ("files" -> "checksum", "size");
# while they are None the download is not verified (a warning is logged).
SONYC_UST_V1_FILES = [
    {
        "name": "annotations.csv",
        "url": f"{_ZENODO}/annotations.csv",
        "md5": None,
        "size": None,
        "extract": False,
    },
    {
        "name": "dcase-ust-taxonomy.yaml",
        "url": f"{_ZENODO}/dcase-ust-taxonomy.yaml",
        "md5": None,
        "size": None,
        "extract": False,
    },
    {
        "name": "README.md",
        "url": f"{_ZENODO}/README.md",
        "md5": None,
        "size": None,
        "extract": False,
    },
    {
        "name": "audio-dev.tar.gz",
        "url": f"{_ZENODO}/audio-dev.tar.gz",
        "md5": None,
        "size": None,
        "extract": True,
    },
    {
        "name": "audio-eval.tar.gz",
        "url": f"{_ZENODO}/audio-eval.tar.gz",
        "md5": None,
        "size": None,
        "extract": True,
    },
]


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
    return (
        "Get SONYC-UST v1.0 (DCASE 2019 Task 5) from "
        f"https://zenodo.org/record/{ZENODO_RECORD} by hand:\n{listing}\n"
        f"put them in {data_folder}, and extract the archives there "
        "(tar xzf audio-dev.tar.gz; tar xzf audio-eval.tar.gz), giving "
        "annotations.csv, dcase-ust-taxonomy.yaml, train/, validate/ and "
        "audio-eval/. Or pass download=True."
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
