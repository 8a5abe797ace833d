"""Schemathesis hooks for scripts/fuzz.sh: the contract rules the OpenAPI document cannot express.

1. atlas-v2 `Accept` (contract sections 5 and 6). Every atlas-v2 request must carry
   `Accept: application/vnd.atlas.<date>+json` with a supported date, or the answer is
   406 INVALID_VERSION_DATE. `Accept` is not a parameter in the spec, and schemathesis 4 sends
   its transport's default (`*/*`, which the contract refuses), so every atlas-v2 request would
   only ever reach the 406. `before_call` sets it: a request with a body gets the version of its
   own `Content-Type` (the body is read under the version `Accept` picks, so a body generated
   from the 2023-01-01 schema is sent as 2023-01-01); a request without a body gets one of the
   two versions at random (seeded by FUZZ_SEED). A request that already carries an `Accept`
   keeps it. Requests of the v1.0 families are untouched.

2. `envelope=true` (contract section 3). The spec describes the envelope only in the
   parameter's prose: the response schemas are the bare objects, so every enveloped body would
   "break the spec" by construction. `after_call` checks the envelope itself (a JSON object whose
   `status` equals the HTTP status; single objects and errors exactly `{status, content}`, list
   bodies `{status, links, results[, totalCount]}`) and, if it is right, hands schemathesis the
   unwrapped body, so the standard `response_schema_conformance` check still validates the
   content against the spec. A wrong envelope is left as it is and reported by the custom check
   `envelope_conformance` below.

3. Steering (no check is affected): the body's `oneOf` and the path's `{integrationType}` are
   drawn independently, so only about one body in eight matches its path and reaches the body
   rules and the state. `map_case` makes the path type equal to the body's `type` in half of the
   cases (seeded), when both are valid values of the family's path enum; the other half keep
   the mismatch, which R1 below covers.

4. Rules OpenAPI 3.0 cannot state (contract sections 1, 2, 5 and 8). Three of them tie one part
   of a request to another, so a request that is valid for schemathesis can be refused by a
   conforming server; `filter_failure` drops such a "schema-valid request rejected" (ST202,
   positive_data_acceptance) failure only when the answer is exactly the contract's answer for
   one of them, checked on the request and on the response body (R1-R3). The fourth goes the
   other way (R4):
   - R1: body `type` differs from the path's `{integrationType}` → 400 INVALID_ATTRIBUTE,
     parameters ["type"] (the body's `oneOf` and the path enum are independent in the spec);
   - R2: `HIP_CHAT` is in the atlas-v2 path enum but not supported → 400 HIPCHAT_NOT_SUPPORTED;
   - R3: cloud-manager PROMETHEUS with `scheme: https` and no `tlsPemPath` → 400
     INVALID_INTEGRATION_SETTINGS (the spec's `x-conditional-required`, not JSON Schema);
   - R4: an optional field sent as `null` is treated as not sent (contract section 8), but the
     spec does not mark optional fields `nullable`, so schemathesis counts such a body as
     schema-violating and its acceptance as "schema-violating request accepted" (ST201,
     negative_data_rejection). Dropped only when the server answered 2xx and the body, with its
     `null` optional fields removed, validates against the spec's request schema for that type
     and media type (resolved from $FUZZ_SPEC and checked with jsonschema_rs).
   Every dropped failure is appended to $FUZZ_DROPPED (JSON lines) with its rule, so the run's
   report can count them. Any other failure, and any of these with another answer, still fails.
"""

from __future__ import annotations

import json
import os
import random

import jsonschema_rs
import schemathesis
import yaml
from schemathesis.core import NOT_SET

V2_PREFIX = "/api/atlas/v2/"
VERSIONS = (
    "application/vnd.atlas.2023-01-01+json",
    "application/vnd.atlas.2025-03-12+json",
)
_DROPPED_LOG = os.environ.get("FUZZ_DROPPED")
_rng = random.Random(int(os.environ.get("FUZZ_SEED", "1")))
_steer_rng = random.Random(int(os.environ.get("FUZZ_SEED", "1")) + 1)

# id(response) -> what is wrong with its envelope (read by the check, then dropped).
_ENVELOPE_PROBLEMS: dict[int, str] = {}


def _first(value):
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def _envelope_requested(case) -> bool:
    query = case.query or {}
    value = _first(query.get("envelope"))
    if isinstance(value, bool):
        return value
    return value == "true"


def _path_enum(case):
    item = _spec()["paths"].get(case.operation.path, {})
    for param in item.get("parameters", []):
        if "$ref" in param:
            param = _pointer(param["$ref"])
        if param.get("name") == "integrationType":
            return param.get("schema", {}).get("enum", [])
    return []


@schemathesis.hook
def map_case(context, case):
    params = case.path_parameters or {}
    body = case.body if isinstance(case.body, dict) else None
    if body is None or "integrationType" not in params or _steer_rng.random() < 0.5:
        return case
    enum = _path_enum(case)
    body_type = body.get("type")
    if params["integrationType"] in enum and body_type in enum and body_type != params["integrationType"]:
        case.path_parameters = {**params, "integrationType": body_type}
    return case


@schemathesis.hook
def before_call(context, case, kwargs):
    if not case.operation.path.startswith(V2_PREFIX):
        return
    headers = dict(case.headers or {})
    if any(name.lower() == "accept" for name in headers):
        return
    media_type = (case.media_type or "").split(";")[0].strip().lower()
    headers["Accept"] = media_type if media_type in VERSIONS else _rng.choice(VERSIONS)
    case.headers = headers


@schemathesis.hook
def after_call(context, case, response):
    if not _envelope_requested(case) or not response.content:
        return
    try:
        body = json.loads(response.content)
    except ValueError:
        _ENVELOPE_PROBLEMS[id(response)] = "envelope=true but the body is not JSON"
        return
    if not isinstance(body, dict):
        _ENVELOPE_PROBLEMS[id(response)] = "envelope=true but the body is not a JSON object"
        return
    status = body.get("status")
    if status != response.status_code or isinstance(status, bool):
        _ENVELOPE_PROBLEMS[id(response)] = (
            f"envelope status {status!r} differs from the HTTP status {response.status_code}"
        )
        return
    keys = set(body)
    if keys == {"status", "content"}:
        inner = body["content"]
    elif {"status", "links", "results"} <= keys <= {"status", "links", "results", "totalCount"}:
        inner = {k: v for k, v in body.items() if k != "status"}
    else:
        _ENVELOPE_PROBLEMS[id(response)] = f"envelope=true body has the keys {sorted(keys)}"
        return
    content = json.dumps(inner).encode()
    response.content = content
    response.content_size = len(content)
    response._deserialized = NOT_SET  # drop the cached parse of the old body
    response._encoded_body = None


@schemathesis.check
def envelope_conformance(ctx, response, case):
    """With envelope=true, the body is the contract's envelope and its status the HTTP status."""
    problem = _ENVELOPE_PROBLEMS.pop(id(response), None)
    if problem is not None:
        raise AssertionError(problem)


def _json(data):
    if isinstance(data, (bytes, bytearray)):
        try:
            return json.loads(data)
        except ValueError:
            return None
    return data


_SPEC = None


def _spec():
    global _SPEC
    if _SPEC is None:
        with open(os.environ["FUZZ_SPEC"], encoding="utf-8") as f:
            _SPEC = yaml.safe_load(f)
    return _SPEC


def _resolve(node):
    """`node` with every local $ref inlined and OpenAPI 3.0 `nullable` turned into JSON Schema."""
    if isinstance(node, list):
        return [_resolve(n) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _resolve(_pointer(node["$ref"]))
    out = {k: _resolve(v) for k, v in node.items() if not k.startswith("x-") and k not in ("example", "discriminator")}
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def _pointer(ref):
    target = _spec()
    for part in ref.lstrip("#/").split("/"):
        target = target[part]
    return target


def _request_schema(case, type_name):
    """The spec's request schema for one integration type under the case's media type."""
    op = _spec()["paths"][case.operation.path][case.method.lower()]
    request_body = op["requestBody"]
    if "$ref" in request_body:
        request_body = _pointer(request_body["$ref"])
    media = (case.media_type or "").split(";")[0].strip()
    union = request_body["content"][media]["schema"]
    if "$ref" in union:
        union = _pointer(union["$ref"])
    mapping = union.get("discriminator", {}).get("mapping", {})
    if type_name not in mapping:
        return None
    schema = _resolve({"$ref": mapping[type_name]})
    # Request side: read-only properties (the atlas-v2 `id`) are not required.
    read_only = {k for k, v in schema.get("properties", {}).items() if v.get("readOnly")}
    schema["required"] = [r for r in schema.get("required", []) if r not in read_only]
    return schema


def _null_optional_rule(case, response) -> str | None:
    """R4: the 2xx is explained by the contract's "optional null = not sent" rule."""
    if not 200 <= response.status_code < 300 or not isinstance(case.body, dict):
        return None
    type_name = case.body.get("type")
    if not isinstance(type_name, str):
        return None
    try:
        schema = _request_schema(case, type_name)
    except (KeyError, TypeError, AttributeError):
        return None
    if schema is None:
        return None
    required = set(schema.get("required", []))
    nulls = [k for k, v in case.body.items() if v is None and k not in required]
    if not nulls:
        return None
    stripped = {k: v for k, v in case.body.items() if k not in nulls}
    if jsonschema_rs.validator_for(schema).is_valid(stripped):
        return "R4 optional field sent as null is treated as not sent"
    return None


def _contract_rule(case, response) -> str | None:
    """Which coupling rule (R1-R3) explains this 400, or None."""
    if response.status_code != 400:
        return None
    error = _json(response.content)
    if isinstance(error, dict) and set(error) == {"status", "content"}:
        error = error["content"]
    if not isinstance(error, dict):
        return None
    code = error.get("errorCode")
    path_type = (case.path_parameters or {}).get("integrationType")
    body = case.body if isinstance(case.body, dict) else None
    path = case.operation.path
    if (
        code == "INVALID_ATTRIBUTE"
        and error.get("parameters") == ["type"]
        and body is not None
        and isinstance(body.get("type"), str)
        and body.get("type") != path_type
    ):
        return "R1 body type differs from the path type"
    if code == "HIPCHAT_NOT_SUPPORTED" and path_type == "HIP_CHAT" and path.startswith(V2_PREFIX):
        return "R2 HIP_CHAT is in the atlas-v2 path enum but not supported"
    if (
        code == "INVALID_INTEGRATION_SETTINGS"
        and path.startswith("/api/public/v1.0/")
        and body is not None
        and body.get("type") == "PROMETHEUS"
        and body.get("scheme") == "https"
        and not body.get("tlsPemPath")
    ):
        return "R3 cloud-manager PROMETHEUS scheme https without tlsPemPath"
    return None


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keep every failure except an ST202 (R1-R3) or ST201 (R4) that its rule explains exactly."""
    code = getattr(failure, "code", None)
    if response is None:
        return True
    if code == "ST202":
        rule = _contract_rule(case, response)
    elif code == "ST201":
        rule = _null_optional_rule(case, response)
    else:
        rule = None
    if rule is None:
        return True
    if _DROPPED_LOG:
        with open(_DROPPED_LOG, "a", encoding="utf-8") as f:
            f.write(
                json.dumps(
                    {
                        "rule": rule,
                        "method": case.method,
                        "path": case.formatted_path,
                        "status": response.status_code,
                    }
                )
                + "\n"
            )
    return False
