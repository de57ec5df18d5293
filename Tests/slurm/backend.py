"""A ctypes face of an executor backend (.so), as the host would load it: cdx_negotiate, cdx_open,
then the table's JSON operations. Only what the Slurm tests need."""
import ctypes as C
import json

CDD_OK, CDD_E_INVALID, CDD_E_NOT_FOUND, CDD_E_UNSUPPORTED = 0, 1, 3, 10


class Error(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("http_status", C.c_int32), ("retry_after_ms", C.c_uint32),
                ("reserved0", C.c_uint32), ("provider_code", C.c_char * 64), ("message", C.c_char * 512)]


OP = C.CFUNCTYPE(C.c_int32, C.c_void_p, C.c_char_p, C.POINTER(C.c_void_p), C.POINTER(Error))


class Executor(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("abi_version", C.c_uint32), ("executor_ctx", C.c_void_p),
                ("id", C.c_char_p), ("version", C.c_char_p), ("description", C.c_char_p),
                ("capabilities", C.CFUNCTYPE(C.c_int32, C.c_void_p, C.POINTER(C.c_void_p), C.POINTER(Error))),
                ("open_backend", C.CFUNCTYPE(C.c_int32, C.c_void_p, C.c_char_p, C.c_char_p, C.POINTER(C.c_void_p),
                                             C.POINTER(Error))),
                ("close_backend", C.CFUNCTYPE(None, C.c_void_p)),
                ("capacity", OP), ("submit", OP), ("list", OP), ("cancel", OP), ("release", OP), ("log_tail", OP),
                ("get_extension", C.c_void_p), ("free_string", C.CFUNCTYPE(None, C.c_void_p, C.c_void_p)),
                ("reserved", C.c_void_p * 16)]


class BackendError(Exception):
    def __init__(self, status, message):
        super().__init__(f"status {status}: {message}")
        self.status, self.message = status, message


class Plugin:
    def __init__(self, path):
        self.lib = C.CDLL(path)
        agreed = C.c_uint32()
        assert self.lib.cdx_negotiate(C.c_uint32(1 << 16), C.byref(agreed)) == CDD_OK
        self.table = Executor()
        self.table.struct_size = C.sizeof(Executor)
        self.table.abi_version = agreed.value
        err = Error(struct_size=C.sizeof(Error))
        assert self.lib.cdx_open(agreed, None, C.byref(self.table), C.byref(err)) == CDD_OK, err.message

    def _take(self, ptr):
        text = C.string_at(ptr.value).decode()
        self.table.free_string(self.table.executor_ctx, ptr)
        return json.loads(text)

    def capabilities(self):
        out, err = C.c_void_p(), Error(struct_size=C.sizeof(Error))
        status = self.table.capabilities(self.table.executor_ctx, C.byref(out), C.byref(err))
        if status != CDD_OK:
            raise BackendError(status, err.message.decode())
        return self._take(out)

    def open(self, dispatcher_id, config):
        handle, err = C.c_void_p(), Error(struct_size=C.sizeof(Error))
        status = self.table.open_backend(self.table.executor_ctx, dispatcher_id.encode(), json.dumps(config).encode(),
                                         C.byref(handle), C.byref(err))
        if status != CDD_OK:
            raise BackendError(status, err.message.decode())
        return Backend(self, handle)


class Backend:
    def __init__(self, plugin, handle):
        self.plugin, self.handle = plugin, handle

    def call(self, op, request):
        out, err = C.c_void_p(), Error(struct_size=C.sizeof(Error))
        status = getattr(self.plugin.table, op)(self.handle, json.dumps(request).encode(), C.byref(out), C.byref(err))
        if status != CDD_OK:
            assert not out.value, f"{op}: reply set on an error"
            raise BackendError(status, err.message.decode())
        return self.plugin._take(out)

    def submit(self, container, token, tags=None, partition=""):
        full = {"uuid": token + "-uuid", "image": "", "environment": {}, "cwd": "", "vcpus": 1, "ram": 64 << 20,
                "max_run_time": 0}
        full.update(container)
        return self.call("submit", {"container": full, "partition": partition, "idempotency_token": token,
                                    "tags": tags or {}})["job"]

    def list(self, tags=None):
        return self.call("list", {"tags": tags or {}})["jobs"]

    def close(self):
        self.plugin.table.close_backend(self.handle)
