"""``arinspect catalog build|list``: the part catalog."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``catalog`` verb."""
    from arinspect.resources import CATALOG_DIR

    parser = subparsers.add_parser("catalog", help="build or list the part catalog")
    verbs = parser.add_subparsers(dest="catalog_command", required=True, metavar="SUBCOMMAND")
    build = verbs.add_parser(
        "build", help="rebuild the catalog meshes from their parametric models"
    )
    build.add_argument(
        "--out", type=Path, default=CATALOG_DIR, help=f"catalog folder (default {CATALOG_DIR})"
    )
    build.set_defaults(func=build_cmd)
    show = verbs.add_parser("list", help="list the catalog's classes")
    show.add_argument("--catalog", type=Path, default=CATALOG_DIR, help="catalog folder")
    show.set_defaults(func=list_cmd)


def build_cmd(args: argparse.Namespace) -> int:
    """Rebuild the catalog."""
    from arinspect.cad.catalog import build_catalog

    print(f"written {build_catalog(args.out)}")
    return 0


def list_cmd(args: argparse.Namespace) -> int:
    """Print the catalog's classes with their sizes and tolerances."""
    from arinspect.cad.catalog import load_catalog

    catalog = load_catalog(args.catalog)
    print(f"{'class':<26}{'mount':<9}{'size x*y*z (mm)':<20}{'tol mm':>7}{'tol deg':>8}  title")
    for entry in catalog.classes.values():
        size = "x".join(f"{v * 1000:.0f}" for v in entry.mesh().extents)
        tolerances = f"{entry.default_tolerance_mm:>7.0f}{entry.default_tolerance_deg:>8.1f}"
        print(f"{entry.name:<26}{entry.mount:<9}{size:<20}{tolerances}  {entry.title}")
    return 0
