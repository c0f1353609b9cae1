"""Reading an HTTP request to the fake Bot API back into the values python-telegram-bot sent.

PTB's ``HTTPXRequest`` posts :attr:`telegram.request.RequestData.json_parameters` as form
fields: strings as they are, every other value ``json.dumps``-ed (``42`` arrives as ``"42"``,
``reply_markup`` as a JSON string). :func:`read_request` turns each field back into the value
PTB had, guided by the parameter's types in ``api.json`` as Telegram is, so that the server
records the same :class:`~tests.fakes.records.Call` over HTTP as in process.
"""

from __future__ import annotations

import json
import re
from typing import Final

from aiohttp import web
from telegram import InputFile
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from tests.fakes.objects import ChatKey
from tests.fakes.spec import ApiSpec

_INTEGER: Final = re.compile(r"-?\d+")
_PRIMITIVE_TYPES: Final = frozenset({"Integer", "Float", "Boolean", "String"})
_MALFORMED: Final = object()
"""Marks a JSON-typed parameter whose value is not JSON."""


class Malformed(ValueError):
    """A request the server cannot read at all (not JSON where JSON was promised)."""


async def read_request(
    spec: ApiSpec, method: str, request: web.Request
) -> tuple[RequestData, list[str]]:
    """The request as the :class:`RequestData` PTB built before encoding it.

    Returns the data and the names of JSON-typed parameters that were not valid JSON.

    Raises:
        Malformed: for a JSON body that is not a JSON object.
    """
    values: dict[str, object] = dict(request.query)
    uploads: dict[str, tuple[str, bytes, str | None]] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as error:
                raise Malformed(f"can't parse JSON body: {error}") from error
            if not isinstance(body, dict):
                raise Malformed("the JSON body must be an object")
            values.update(body)
        elif request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    content = value.file.read()
                    uploads[name] = (value.filename, content, value.content_type or None)
                elif isinstance(value, bytes | bytearray):
                    values[name] = bytes(value).decode("utf-8", "replace")
                else:
                    values[name] = value
    malformed: list[str] = []
    parameters: list[RequestParameter] = []
    for name, raw in values.items():
        decoded = native(spec, method, name, raw)
        if decoded is _MALFORMED:
            malformed.append(name)
            decoded = raw
        parameters.append(RequestParameter(name, decoded, None))
    for part, (filename, content, mime_type) in uploads.items():
        upload = InputFile(content, filename=filename or part)
        if mime_type:
            upload.mimetype = mime_type
        parameters.append(RequestParameter(part, None, [upload]))
    return RequestData(parameters), malformed


def native(spec: ApiSpec, method: str, name: str, raw: object) -> object:
    """``raw`` as it was before PTB encoded it, judging by the parameter's types."""
    if not isinstance(raw, str):
        return raw  # from a JSON body: already decoded
    spec_method = spec.method(method)
    types = spec_method.types(name) if spec_method is not None else ()
    if not types or "InputFile" in types:
        return raw  # unknown parameter, or a file_id / URL / attach:// reference
    if "String" in types:
        return int(raw) if "Integer" in types and _INTEGER.fullmatch(raw) else raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw if set(types) <= _PRIMITIVE_TYPES else _MALFORMED


def form_chat_key(value: object) -> ChatKey:
    """A ``chat_id`` value as read by :func:`native`: only plain digits are a number.

    Stricter than :func:`tests.fakes.objects.chat_key` (which takes ``"+42"`` for 42): the
    flood limits count a chat the way its id was decoded from the request.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    return int(text) if _INTEGER.fullmatch(text) else text
