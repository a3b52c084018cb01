"""bocpy's example programs, as ``python -m bocpy.examples.NAME`` runs them.

bocpy's wheel carries its examples inside the package. This project does not
ship bocpy's files, so this module is a package path over a folder of them:
``$BOCPY_EXAMPLES``, which ``import bocpy`` sets (for this process and its
children) when the program being run is a script in such a folder -- so
``python examples/fanout_benchmark.py`` can start its children as
``python -m bocpy.examples.fanout_benchmark``, unmodified.
"""

import os

__path__ = [p for p in os.environ.get("BOCPY_EXAMPLES", "").split(os.pathsep) if p]


def note_examples_folder(main_file) -> None:
    """Called by ``import bocpy``: a main script that lives in a package folder
    named ``examples`` makes that folder bocpy.examples."""
    if not main_file or "BOCPY_EXAMPLES" in os.environ:
        return
    folder = os.path.dirname(os.path.abspath(main_file))
    if os.path.basename(folder) == "examples" and os.path.isfile(os.path.join(folder, "__init__.py")):
        os.environ["BOCPY_EXAMPLES"] = folder
        __path__.append(folder)
