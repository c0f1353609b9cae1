"""Catalog maintenance: ``python -m bot.catalogs fill en`` copies English msgids as msgstrs.

The source strings are English, so the English catalog is complete by construction; this keeps
it so after ``make catalogs`` without anyone copying strings by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LOCALES_DIR


def fill_from_source(lang: str, locales_dir: Path = LOCALES_DIR) -> int:
    """Set every empty msgstr of ``lang`` to its msgid; return how many were filled."""
    path = locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            singular, plural = message.id[0], message.id[1]
            forms = [singular] + [plural] * (catalog.num_plurals - 1)
            if not all(message.string or ()):
                message.string = tuple(forms)
                filled += 1
        elif not message.string:
            message.string = message.id
            filled += 1
        message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=99)
    return filled


def main(argv: list[str]) -> int:
    """Command line entry point."""
    if len(argv) != 2 or argv[0] != "fill":
        print("usage: python -m bot.catalogs fill LANG", file=sys.stderr)
        return 2
    print(f"{fill_from_source(argv[1])} messages filled in {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
