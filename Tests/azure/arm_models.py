"""Microsoft's own description of ARM, read from the azure-mgmt-compute and azure-mgmt-network
wheels (the versions pinned in the Makefile): which method + path + api-version pairs exist, and
what a request or response body of each resource may hold.

    routes = Routes.load()
    routes.api_versions("PUT", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1")
    problems = check_body(models.VirtualMachine, body, mode="create")   # [] when it fits the model

The fake ARM server (fake_arm.py) refuses requests these find fault with, and checks its own
responses the same way, so neither the driver nor the fake can drift from the SDK's models.
"""
import ast
import datetime
import enum
import importlib
import re
import sys
import typing

import azure.mgmt.compute
import azure.mgmt.compute.models as compute_models
import azure.mgmt.network
import azure.mgmt.network.models as network_models

PACKAGES = {
    "compute": (azure.mgmt.compute, compute_models),
    "network": (azure.mgmt.network, network_models),
}


class Routes:
    """Every `build_*_request` function of the two packages' operations: method, URL template
    and the api-version it sends by default."""

    def __init__(self, entries):
        self.entries = entries  # [(method, regex, template, api_version, builder)]

    @classmethod
    def load(cls):
        entries = []
        for name, (package, _) in PACKAGES.items():
            module = importlib.import_module(package.__name__ + ".operations._operations")
            tree = ast.parse(open(module.__file__).read())
            for fn in tree.body:
                if not (isinstance(fn, ast.FunctionDef) and fn.name.startswith("build_") and fn.name.endswith("_request")):
                    continue
                url = method = version = None
                for node in ast.walk(fn):
                    if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_url" for t in node.targets) \
                            and isinstance(node.value, ast.Constant):
                        url = node.value.value
                    if isinstance(node, ast.Call):
                        for kw in node.keywords:
                            if kw.arg == "method" and isinstance(kw.value, ast.Constant):
                                method = kw.value.value
                        if isinstance(node.func, ast.Attribute) and node.func.attr == "pop" and len(node.args) == 2 \
                                and isinstance(node.args[0], ast.Constant) and node.args[0].value == "api-version" \
                                and isinstance(node.args[1], ast.Constant):
                            version = node.args[1].value
                if url and method and version:
                    pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(url)) + "$"
                    entries.append((method, re.compile(pattern, re.I), url, version, fn.name))
        return cls(entries)

    def api_versions(self, method, path):
        return {e[3] for e in self.entries if e[0] == method and e[1].match(path)}

    def version_of(self, builder):
        return next(e[3] for e in self.entries if e[4] == builder)


def _hints(cls, package_models):
    module = sys.modules[cls.__module__]
    globalns = dict(vars(module))
    globalns["_models"] = package_models
    return typing.get_type_hints(cls, globalns=globalns)


def _fields(cls, package_models):
    """rest name -> (annotation, visibility) for a model class."""
    cls()  # the generated base class fills _attr_to_rest_field on first construction
    hints = _hints(cls, package_models)
    out = {}
    for attr, field in cls._attr_to_rest_field.items():
        out[field._rest_name] = (hints.get(attr, typing.Any), field._visibility)
    return out


def _package_of(cls):
    return compute_models if cls.__module__.startswith("azure.mgmt.compute") else network_models


def _is_model(t):
    return isinstance(t, type) and hasattr(t, "_attr_to_rest_field") or isinstance(t, type) and t.__name__ != "str" \
        and any(b.__name__ == "Model" for b in t.__mro__)


def check_body(cls, value, mode="create", path="body"):
    """Problems of `value` against model `cls`: unknown members, read-only members sent in a
    request (mode create/update), missing required members (create), wrong JSON types and enum
    values outside the model's enum. mode "read" checks a response (read-only allowed)."""
    problems = []
    _check_model(cls, value, mode, path, problems)
    return problems


def _check_model(cls, value, mode, path, problems):
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object ({cls.__name__}), got {type(value).__name__}")
        return
    fields = _fields(cls, _package_of(cls))
    for key, item in value.items():
        if key not in fields:
            problems.append(f"{path}.{key}: not a member of {cls.__name__}")
            continue
        annotation, visibility = fields[key]
        if mode != "read" and visibility and mode not in visibility and not (mode == "update" and "create" in visibility):
            problems.append(f"{path}.{key}: read-only in {cls.__name__} (visibility {visibility})")
            continue
        _check(annotation, item, mode, f"{path}.{key}", problems)
    if mode == "create":
        for key, (annotation, visibility) in fields.items():
            required = typing.get_origin(annotation) is not typing.Union or type(None) not in typing.get_args(annotation)
            if required and annotation is not typing.Any and (not visibility or "create" in visibility) and key not in value:
                problems.append(f"{path}.{key}: required by {cls.__name__}")


def _check(annotation, value, mode, path, problems):
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union:
        options = [a for a in args if a is not type(None)]
        if value is None:
            return
        enums = [a for a in options if isinstance(a, type) and issubclass(a, enum.Enum)]
        if enums and isinstance(value, str):
            allowed = {e.value for en in enums for e in en}
            if value not in allowed:
                problems.append(f"{path}: \"{value}\" is not one of {sorted(allowed)}")
            return
        if len(options) == 1:
            return _check(options[0], value, mode, path, problems)
        for option in options:
            trial = []
            _check(option, value, mode, path, trial)
            if not trial:
                return
        problems.append(f"{path}: {value!r} fits none of {options}")
        return
    if origin in (list, typing.List):
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list")
            return
        for i, item in enumerate(value):
            _check(args[0] if args else typing.Any, item, mode, f"{path}[{i}]", problems)
        return
    if origin in (dict, typing.Dict):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object")
            return
        for k, item in value.items():
            _check(args[1] if len(args) > 1 else typing.Any, item, mode, f"{path}.{k}", problems)
        return
    if annotation is typing.Any:
        return
    if annotation is str:
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {value!r}")
    elif annotation is bool:
        if not isinstance(value, bool):
            problems.append(f"{path}: expected true/false, got {value!r}")
    elif annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {value!r}")
    elif annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: expected a number, got {value!r}")
    elif annotation in (datetime.datetime, datetime.date):
        if not isinstance(value, str):
            problems.append(f"{path}: expected a date-time string")
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        if value not in {e.value for e in annotation}:
            problems.append(f"{path}: \"{value}\" is not one of {[e.value for e in annotation]}")
    elif isinstance(annotation, type) and hasattr(annotation, "_attr_to_rest_field") or isinstance(annotation, type):
        _check_model(annotation, value, mode, path, problems)
