"""A renderer keeps what it rendered: equal data built afresh is not rendered again, and any
difference in the data (a name, a type, a role) renders anew."""

from __future__ import annotations

import copy
from typing import Any

from jinja2 import Template

from messages.rendering import Rendered, Renderer, make_environment
from storage.models import Role


class CountedTemplate(Template):
    renders = 0

    def render(self, *args: Any, **kwargs: Any) -> str:
        CountedTemplate.renders += 1
        return super().render(*args, **kwargs)


def counted_renderer(surface: str = "text") -> Renderer:
    environment = make_environment()
    environment.template_class = CountedTemplate
    CountedTemplate.renders = 0
    return Renderer(surface, environment=environment)


def page(name: str = "Ada", role: Any = Role.MEMBER) -> dict[str, Any]:
    member = {"id": "U1", "name": name, "role": role, "role_label": str(role), "skills": ["SQL"]}
    return {
        "community": {"name": "Data Science"},
        "role": None,
        "role_noun": "member",
        "members": [member],
        "total": 1,
        "page": 1,
        "more": None,
    }


def test_equal_data_built_afresh_is_rendered_once() -> None:
    renderer = counted_renderer()
    first = renderer.text("members", page())
    again = renderer.text("members", copy.deepcopy(page()))
    assert again == first and "Ada" in first
    assert CountedTemplate.renders == 1


def test_different_data_is_rendered_again() -> None:
    renderer = counted_renderer()
    assert "Ada" in renderer.text("members", page("Ada"))
    changed = renderer.text("members", page("Grace"))
    assert "Grace" in changed and "Ada" not in changed
    assert "core" in renderer.text("members", page("Grace", Role.CORE))
    assert CountedTemplate.renders == 3


def test_values_that_print_alike_but_differ_in_type_are_kept_apart() -> None:
    renderer = counted_renderer()
    texts = {renderer.text("oops", {"error_id": value}) for value in (1, "1", True, 1.0)}
    assert CountedTemplate.renders == 4
    assert texts == {
        "Sorry, something went wrong on my side and nothing was changed. If it happens again, "
        f"tell your admin the error id {shown}."
        for shown in ("1", "True", "1.0")
    }


def test_each_template_keeps_its_own_text_for_the_same_data() -> None:
    renderer = counted_renderer("slack")
    data = page()
    text, blocks = renderer.text("members", data), renderer.json("members", copy.deepcopy(data))
    assert isinstance(blocks, list) and text != str(blocks)
    assert renderer.text("members", copy.deepcopy(data)) == text
    assert CountedTemplate.renders == 2


def test_data_that_cannot_be_pickled_is_rendered_every_time() -> None:
    renderer = counted_renderer()

    class Unpicklable(str):
        def __reduce__(self) -> Any:
            raise TypeError("not today")

    for _ in range(2):
        assert "x1" in renderer.text("oops", {"error_id": Unpicklable("x1")})
    assert CountedTemplate.renders == 2


def test_the_least_recently_used_go_first_beyond_the_budget() -> None:
    kept = Rendered(budget=1_000)
    for number in range(20):
        data = {"n": number}
        kept.keep(kept.find("t", data, {}), data, "x" * 100)
    assert kept.find("t", {"n": 19}, {}).text == "x" * 100
    assert kept.find("t", {"n": 0}, {}).text is None
