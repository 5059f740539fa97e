"""Resolve the implementation under test from its "package.module:attribute" name."""

from __future__ import annotations

import importlib
import os
import sys


def load_callable(target: str):
    """The object named by "package.module:attribute[.attribute...]"; the working folder is
    searched first, as `python -m` would (so a user's own module is found). A target
    qualified with its framework ("numpy:package.module:attribute", see
    `frameworks.qualify`) comes back behind torch autograd (`frameworks.adapt`).

    Raises:
        ValueError: the name is malformed, the module cannot be imported, the attribute is
            missing or not callable.
    """
    from rnnt_parity.conform.frameworks import adapt, split_target

    framework, name = split_target(target)
    return adapt(_load(name, target), framework)


def _load(name: str, target: str):
    module_name, _, attribute = name.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"target {target!r}: expected PACKAGE.MODULE:CALLABLE")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"target {target!r}: cannot import {module_name!r} ({error})") from error
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise ValueError(f"target {target!r}: {module_name} has no {attribute!r}")
        found = getattr(found, part)
    if not callable(found):
        raise ValueError(f"target {target!r} is a {type(found).__name__}, not callable")
    return found
