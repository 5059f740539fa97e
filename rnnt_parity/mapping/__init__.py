"""Declarative weight maps between model families (`engine`; the maps themselves live in each
codebase's maps/*.json) and mapping through the canonical layout (`through_canonical`)."""

from rnnt_parity.mapping.engine import MappingError, WeightMap, apply_map, load_map

__all__ = ["MappingError", "WeightMap", "apply_map", "load_map"]
