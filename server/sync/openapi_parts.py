"""Building blocks of the OpenAPI document (openapi.py): answers, errors,
POST operations and the security each route asks for."""

from __future__ import annotations

from typing import Any

from server.sync.openapi_schemas import ref


def answer(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    400: "the passkey's answer did not verify (`passkey_failed`): start again with new options",
    401: "not signed in, or the session ended (`sign_in_required`)",
    403: "`csrf` (token missing or not this session's) or `cross_origin` (Origin header)",
    404: "no such thing for this user (also: this role has no such route)",
    410: "the invitation expired or was used (`invitation_unusable`)",
    413: "body over 1 MB (`too_large`) or over 100 records (`batch_too_large`)",
    415: "Content-Type is not application/json",
    422: "the body is not the JSON object described (`invalid`)",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def errors(*statuses: int) -> dict[str, Any]:
    answers: dict[str, Any] = {
        str(status): answer(ref("Error"), ERRORS[status]) for status in statuses if status != 429
    }
    if 429 in statuses:
        answers["429"] = {
            **answer(ref("Error"), "rate limited (`rate_limited`): wait Retry-After seconds"),
            "headers": RETRY_AFTER,
        }
    answers["500"] = answer(ref("Error"), "server fault: nothing was changed; retry later")
    answers["503"] = {
        **answer(
            ref("Error"),
            "the server is full (`busy`), answered before anything was read or stored: "
            "wait Retry-After seconds, then send the same request again",
        ),
        "headers": RETRY_AFTER,
    }
    answers["5XX"] = {
        "description": "unavailable (502/503/504, perhaps from a proxy, perhaps not JSON): "
        "retry with backoff, honouring Retry-After when present"
    }
    return answers


ORIGIN_HEADER = {"$ref": "#/components/parameters/Origin"}
SET_COOKIE = {
    "Set-Cookie": {"description": "see the cookie names above", "schema": {"type": "string"}}
}


def body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


EMPTY = {"type": "object", "description": "send `{}`: the body is not read"}
Security = list[dict[str, list[str]]]
ANONYMOUS_POST: Security = [{"csrf": [], "csrfCookie": []}]
SIGNED_IN_POST: Security = [{"session": [], "csrf": []}]
SIGNED_IN: Security = [{"session": []}]


def post(summary: str, description: str, **operation: Any) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "description": description,
            "parameters": [ORIGIN_HEADER, *operation.pop("parameters", [])],
            **operation,
        }
    }
