"""Labels that hold a count, in every language: the count's CLDR plural form (Babel) picks the wording.

In a label file such a label is a table of its plural forms, e.g. English
``{ one = "{count} client", other = "{count} clients" }``; Russian and Polish have ``one``, ``few``, ``many``
and ``other``. :func:`with_plurals` turns each table into a :class:`Plural`, which formats like a string:
``labels["subject"].format(count=2)``.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from babel import Locale

#: The CLDR plural categories; a table whose keys are some of these, ``other`` among them, is a plural label.
CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def plural_form(language: str, count: int) -> str:
    """The CLDR plural category of ``count`` in ``language``: ``one``, ``few``, ``many`` or ``other`` …"""
    return str(_locale(language).plural_form(count))


def plural_forms(language: str) -> frozenset[str]:
    """Every plural category ``language`` uses: what each of its plural labels must spell out."""
    return frozenset(_locale(language).plural_form.tags | {"other"})


@dataclass(frozen=True, slots=True)
class Plural:
    """A label holding a count: its wording per plural category of ``language``."""

    forms: Mapping[str, str]
    language: str

    def format(self, *, count: int, **fields: Any) -> str:
        """The wording for ``count``, its placeholders filled (``{count}`` and ``fields``)."""
        return self.forms[plural_form(self.language, count)].format(count=count, **fields)


def counted(language: str, count: int, forms: Mapping[str, str], **fields: Any) -> str:
    """``forms`` (by plural category) worded for ``count`` in ``language``: ``counted("en", 1, {...})``."""
    return Plural(forms, language).format(count=count, **fields)


def is_plural_table(value: object) -> bool:
    """Whether a label file's ``value`` is a table of plural forms."""
    return isinstance(value, Mapping) and "other" in value and set(value) <= CATEGORIES


def with_plurals(labels: Mapping[str, Any], language: str) -> dict[str, Any]:
    """``labels`` with every table of plural forms, at any depth, a :class:`Plural` of ``language``."""
    return {
        key: Plural(dict(value), language)
        if is_plural_table(value)
        else with_plurals(value, language)
        if isinstance(value, Mapping)
        else value
        for key, value in labels.items()
    }
