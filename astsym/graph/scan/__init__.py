"""Loops as graph nodes: ``scan`` and its shorthands ``map``, ``reduce``, ``foldl``, ``foldr``."""

from .build import Until, foldl, foldr, map, reduce, scan, until
from .op import Scan, ScanInfo
