"""What a web request may send, checked before a route reads it (issue 14, point 5: no input makes a 500).

- A page's form is declared as a model (`Form`, with `Routes.page(..., form=...)`):
  the route reads only its fields, each a bounded text without control
  characters, and a field given a fixed set of values says which (`one_of`).
  The access and hostile-input tests read the same declarations.
- Path and query parameters are typed on the routes (FastAPI: numbers bounded to
  what the database stores); `plain_parameters` refuses, for every route, a
  control character in any of them: PostgreSQL refuses a NUL in a text, and no
  id, month or name has one (the events' ids refuse them too, `engine.events`).
- A refusal is a 422: `{"error": ...}` in English on the API, a sentence in
  French on a page (`in_french`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, create_model

MAX_TEXT = 1000  # characters in one form field: more than any id (128), label (500) or reason needs
MAX_ROW_ID = 2**31 - 1  # a row id in a path (a dead letter, an account): PostgreSQL's integer
_CONTROL = frozenset(chr(c) for c in (*range(0x00, 0x20), 0x7F)) - {"\t", "\n", "\r"}


def _plain(value: str) -> str:
    """Text a person can type: no control character (a form's tab and line breaks aside), no lone
    surrogate (what a percent-encoded half of a UTF-16 pair decodes to; no database stores it)."""
    if any(c in _CONTROL or "\ud800" <= c <= "\udfff" for c in value):
        raise ValueError("control characters are not allowed")
    return value


Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_plain)]
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]  # a path's row number: a larger one is no row, not a crash


def one_of(names: Iterable[str]) -> Any:
    """A field that takes one of `names`; its JSON schema's `enum` lists them (the tests read it)."""
    allowed = tuple(names)

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"not one of {', '.join(allowed)}")
        return value
    return Annotated[str, AfterValidator(check), WithJsonSchema({"type": "string", "enum": list(allowed)})]


class Form(BaseModel):
    """A page's form: text fields only (a browser sends nothing else), absent ones empty. The CSRF
    token is checked before (`web.routing.checked_form`); fields not declared are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class NoFields(Form):
    """A form that carries its CSRF token and nothing else (sign out, replay, revoke)."""


def form_for_events(name: str, types: Iterable[str], fields: Iterable[str],
               defaults: Mapping[str, str] | None = None) -> type[Form]:
    """The form of a page that makes an event of one of `types`: its `type`, the `event_id` made
    when the form was shown, and every field one of the types reads (a type reads its own)."""
    definitions: dict[str, Any] = {"type": (one_of(types), ...), "event_id": (Text, "")}
    definitions.update({f: (Text, (defaults or {}).get(f, "")) for f in fields})
    return create_model(name, __base__=Form, **definitions)


def validated(form: type[Form], fields: Mapping[str, str]) -> dict[str, str]:
    """The declared fields of a posted form, or a 422 naming the first field refused."""
    try:
        return {k: str(v) for k, v in form.model_validate(fields).model_dump().items()}
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in exc.errors(include_url=False)]) from None


async def plain_parameters(request: Request) -> None:
    """Every route's check of its path and query: no control character in any of them. A coroutine:
    a check this small costs less than the hop to the thread pool a plain function would take."""
    for where, values in (("path", request.path_params.items()), ("query", request.query_params.multi_items())):
        for name, value in values:
            if isinstance(value, str):
                try:
                    _plain(value)
                except ValueError as exc:
                    raise RequestValidationError([{"type": "value_error", "loc": (where, name), "msg": str(exc),
                                                   "input": value}]) from None


_FRENCH = {
    "missing": "ce champ manque",
    "string_too_long": "trop long",
    "string_pattern_mismatch": "ce n'est pas le format attendu",
    "int_parsing": "un nombre entier est attendu",
    "bool_parsing": "oui ou non est attendu",
    "greater_than_equal": "trop petit",
    "less_than_equal": "trop grand",
}


def in_french(error: Mapping[str, Any]) -> str:
    """A page's sentence for a refused field (the API keeps pydantic's English)."""
    where = ".".join(str(p) for p in error.get("loc", ())[1:]) or "la requête"
    kind = error.get("type", "")
    if kind == "value_error" and "control characters" in str(error.get("msg", "")):
        why = "les caractères de contrôle ne sont pas acceptés"
    elif kind == "value_error" and "not one of" in str(error.get("msg", "")):
        why = "valeur inconnue"
    else:
        why = _FRENCH.get(kind, "valeur refusée")
    return f"Saisie refusée : « {where} » : {why}."
