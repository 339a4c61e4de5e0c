"""The kit's release: its version, where it is published, and what Colab installs.

This is the ONE place these are written. ``pyproject.toml`` reads the version from here,
:func:`apac_lab.notebook_tools.colab_setup_cell` writes the first cell of every notebook
from here, and :func:`apac_lab.notebook_tools.colab_badge` the "Open in Colab" links of
the README and the notebooks; ``tests/test_colab.py`` checks that they all agree.

A fork changes ``REPOSITORY`` (and, to install a branch rather than a tag, ``REF``), then
runs ``python -m apac_lab.notebook_tools colab notebooks README.md`` to rewrite the cells
and the links.

Leaf module: imports nothing.

>>> RELEASE_REF
'v0.2.0'
>>> colab_install_spec()
'apac-lab @ git+https://github.com/apac-lab/apac-lab@v0.2.0'
"""

__version__ = "0.2.0"

#: ``owner/name`` of the GitHub repository that publishes the kit.
REPOSITORY = "apac-lab/apac-lab"

#: The git ref Colab installs and its badges open: the release tag of ``__version__``.
#: (Push the tag ``v<version>`` when releasing; a fork may put a branch name here.)
RELEASE_REF = f"v{__version__}"

#: What the Colab set-up cell installs beside the kit, exactly pinned (Colab lacks them).
#: Everything else (torch, torchaudio, numpy, ipywidgets, plotly) stays as Colab has it.
COLAB_EXTRAS = {
    "nnAudio": "0.3.4",  # the trainable front-ends (notebook 05)
    "anywidget": "0.11.0",  # widgets with their own front-end code (the microphone recorder)
}


def colab_install_spec(repository: str | None = None, ref: str | None = None) -> str:
    """The pip requirement that installs this release from GitHub (PEP 508 direct reference);
    ``repository`` and ``ref`` default to :data:`REPOSITORY` and :data:`RELEASE_REF`."""
    return f"apac-lab @ {git_url(repository, ref)}"


def git_url(repository: str | None = None, ref: str | None = None) -> str:
    """``git+https://github.com/<repository>@<ref>``, what pip installs."""
    return f"git+https://github.com/{repository or REPOSITORY}@{ref or RELEASE_REF}"
