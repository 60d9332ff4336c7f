"""Install script for speechbrain-iusp."""

from pathlib import Path

from setuptools import find_packages, setup

here = Path(__file__).parent


def _requirements():
    lines = (here / "requirements.txt").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


setup(
    name="speechbrain-iusp",
    version="0.1.0",
    description=(
        "Intra-utterance similarity preserving knowledge distillation "
        "(IUSP), SP and multi-label KD for SpeechBrain audio taggers"
    ),
    long_description=(here / "README.md").read_text(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["speechbrain_iusp", "speechbrain_iusp.*"]),
    python_requires=">=3.10",
    install_requires=_requirements(),
    extras_require={
        "dev": [
            "pytest==9.0.3",
            "ruff==0.17.6",
            "matplotlib>=3.8",
            "optuna==5.0.0",
        ],
        "plot": ["matplotlib>=3.8"],
        # study.py: figures, and runs queued in a shared Optuna study
        "study": ["matplotlib>=3.8", "optuna>=4.0"],
    },
    license="Apache-2.0",
)
