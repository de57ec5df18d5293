"""Google's discovery document for Compute Engine v1 (compute.v1.json, shipped in the
google-api-python-client wheel) as a judge: which HTTP method and path is an API method,
which query parameters it takes, and whether a JSON body fits a schema (unknown members,
types, int64-as-string, enums, patterns, members the method requires).

    doc = Discovery.load()
    method, path_params = doc.match("POST", "projects/p1/zones/us-central1-a/instances")
    problems = doc.check_body(body, "Instance", method_id=method["id"], request=True)
"""
import json
import os
import re


def discovery_path():
    import googleapiclient.discovery_cache as cache
    return os.path.join(os.path.dirname(cache.__file__), "documents", "compute.v1.json")


class Discovery:
    def __init__(self, doc):
        self.doc = doc
        self.schemas = doc["schemas"]
        self.global_params = doc.get("parameters", {})
        self.methods = []  # (httpMethod, compiled regex, method)
        self._collect(doc.get("resources", {}))

    @classmethod
    def load(cls, path=None):
        with open(path or discovery_path()) as f:
            return cls(json.load(f))

    def _collect(self, resources):
        for resource in resources.values():
            for method in resource.get("methods", {}).values():
                pattern = re.sub(r"\{\+?([A-Za-z_]+)\}", r"(?P<\1>[^/]+)", method["path"])
                self.methods.append((method["httpMethod"], re.compile("^" + pattern + "$"), method))
            self._collect(resource.get("resources", {}))

    def match(self, http_method, path):
        """The discovery method for METHOD path (relative to the service path), and its path
        parameters; (None, None) when no method has that shape. Literal paths win over
        templated ones (`instances/bulkInsert` is not `instances/{instance}`)."""
        best = None
        for verb, regex, method in self.methods:
            if verb != http_method:
                continue
            m = regex.match(path)
            if m:
                literal = len(method["path"]) - sum(len(g) + 2 for g in re.findall(r"\{\+?([A-Za-z_]+)\}", method["path"]))
                if best is None or literal > best[0]:
                    best = (literal, method, m.groupdict())
        return (best[1], best[2]) if best else (None, None)

    def check_query(self, method, query):
        """Problems with the query parameters (a dict of lists) of a call to `method`."""
        problems = []
        params = method.get("parameters", {})
        for name, values in query.items():
            spec = params.get(name) or self.global_params.get(name)
            if spec is None or spec.get("location") == "path":
                problems.append("query parameter %r is not a parameter of %s" % (name, method["id"]))
                continue
            if len(values) > 1 and not spec.get("repeated"):
                problems.append("query parameter %r given %d times" % (name, len(values)))
            for v in values:
                problems += self._check_scalar(v, spec, "query " + name, from_text=True)
        for name, spec in params.items():
            if spec.get("required") and spec.get("location") == "query" and name not in query:
                problems.append("required query parameter %r missing" % name)
        return problems

    def _check_scalar(self, value, spec, where, from_text=False):
        t = spec.get("type")
        if t == "integer":
            try:
                n = int(value) if from_text else value
                if not isinstance(n, int) or isinstance(n, bool):
                    raise ValueError
            except ValueError:
                return ["%s: %r is not an integer" % (where, value)]
            if "minimum" in spec and n < int(spec["minimum"]):
                return ["%s: %r below minimum %s" % (where, value, spec["minimum"])]
            if "maximum" in spec and n > int(spec["maximum"]):
                return ["%s: %r above maximum %s" % (where, value, spec["maximum"])]
        elif t == "boolean":
            if (from_text and value not in ("true", "false")) or (not from_text and not isinstance(value, bool)):
                return ["%s: %r is not a boolean" % (where, value)]
        elif t == "string":
            if not isinstance(value, str):
                return ["%s: %r is not a string" % (where, value)]
            if "enum" in spec and value not in spec["enum"]:
                return ["%s: %r is not one of %s" % (where, value, spec["enum"])]
            fmt = spec.get("format")
            if fmt in ("int64", "uint64") and not re.fullmatch(r"-?[0-9]+", value):
                return ["%s: %r is not an %s in a string" % (where, value, fmt)]
        return []

    def check_body(self, value, schema_name, method_id=None, request=True):
        """Problems of `value` against the named schema. For a request (`request=True`):
        members the method requires (annotations.required) and name patterns too."""
        problems = []
        self._walk(value, {"$ref": schema_name}, schema_name, problems, method_id, request)
        return problems

    def _walk(self, value, schema, where, problems, method_id, request):
        if "$ref" in schema:
            schema = self.schemas[schema["$ref"]]
        t = schema.get("type")
        if t == "object":
            if not isinstance(value, dict):
                problems.append("%s: expected an object, got %s" % (where, type(value).__name__))
                return
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for key, member in value.items():
                if key in props:
                    self._walk(member, props[key], "%s.%s" % (where, key), problems, method_id, request)
                elif extra is not None:
                    self._walk(member, extra, "%s[%r]" % (where, key), problems, method_id, request)
                else:
                    problems.append("%s: unknown member %r" % (where, key))
            if request and method_id:
                for key, member in props.items():
                    if method_id in member.get("annotations", {}).get("required", []) and key not in value:
                        problems.append("%s: member %r is required by %s" % (where, key, method_id))
        elif t == "array":
            if not isinstance(value, list):
                problems.append("%s: expected an array" % where)
                return
            for i, item in enumerate(value):
                self._walk(item, schema.get("items", {}), "%s[%d]" % (where, i), problems, method_id, request)
        elif t in ("string", "integer", "boolean"):
            problems += self._check_scalar(value, schema, where)
            if t == "string" and request and isinstance(value, str) and "pattern" in schema:
                if not re.fullmatch(schema["pattern"], value):
                    problems.append("%s: %r does not match %s" % (where, value, schema["pattern"]))
        elif t == "number":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                problems.append("%s: expected a number" % where)
        # "any" and untyped schemas take anything
