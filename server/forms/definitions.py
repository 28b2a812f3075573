"""Every form version the server knows, and how to look one up.

Old versions stay registered for good: a session log records the version it
was made with, and a phone may still hold drafts made with an older one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from server.enums import Pillar
from server.errors import Invalid
from server.forms.counselling import COUNSELLING_V1
from server.forms.education import EDUCATION_V1
from server.forms.family import FAMILY_V1
from server.forms.form import Form
from server.forms.vocational import VOCATIONAL_V1
from server.i18n import N_


class UnknownForm(Invalid):
    code = "unknown_form"

    def __init__(self) -> None:
        super().__init__(N_("This form is not known. Please update the app and try again."))


class Registry:
    """An immutable set of forms keyed by pillar and version."""

    def __init__(self, forms: Iterable[Form]) -> None:
        self._forms: dict[tuple[Pillar, int], Form] = {}
        for form in forms:
            key = (Pillar(form.pillar), form.version)
            if key in self._forms:
                raise ValueError(f"{form.pillar} v{form.version} is registered twice")
            self._forms[key] = form

    def with_form(self, form: Form) -> Registry:
        """A new registry that also holds ``form`` (e.g. a new version)."""
        return Registry([*self._forms.values(), form])

    def get(self, pillar: Pillar | str, version: int) -> Form:
        """The form ``pillar`` at ``version``.

        Raises:
            UnknownForm: no such pillar or version.
        """
        try:
            return self._forms[(Pillar(pillar), version)]
        except (KeyError, ValueError):
            raise UnknownForm() from None

    def latest(self, pillar: Pillar | str) -> Form:
        """The newest version of ``pillar``'s form, the one new logs use.

        Raises:
            UnknownForm: no such pillar.
        """
        versions = self.versions(pillar)
        if not versions:
            raise UnknownForm()
        return self._forms[(Pillar(pillar), versions[-1])]

    def versions(self, pillar: Pillar | str) -> tuple[int, ...]:
        try:
            wanted = Pillar(pillar)
        except ValueError:
            return ()
        return tuple(sorted(version for p, version in self._forms if p is wanted))

    def __iter__(self) -> Iterator[Form]:
        return iter(sorted(self._forms.values(), key=lambda f: (f.pillar, f.version)))


REGISTRY = Registry([FAMILY_V1, EDUCATION_V1, VOCATIONAL_V1, COUNSELLING_V1])


def get_form(pillar: Pillar | str, version: int, registry: Registry = REGISTRY) -> Form:
    """The definition of ``pillar``'s form at ``version``, old versions included.

    Raises:
        UnknownForm: no such pillar or version.
    """
    return registry.get(pillar, version)


def latest_form(pillar: Pillar | str, registry: Registry = REGISTRY) -> Form:
    """The newest definition of ``pillar``'s form.

    Raises:
        UnknownForm: no such pillar.
    """
    return registry.latest(pillar)
