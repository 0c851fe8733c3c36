"""The root of every error a user can cause (bad input, unknown id, illegal action).

The CLI maps a ``QaError`` to a message and exit code 2, the web layer to a 4xx JSON body;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class QaError(Exception):
    """An expected, user-caused error whose message names the problem and the input."""
