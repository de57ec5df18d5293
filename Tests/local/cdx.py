"""The executor ABI (Sources/PluginABI/include/cloud_dispatch_executor.h) through ctypes: load a
libcdx_*.so, open backends, call their JSON operations. For the local backend's tests."""
import ctypes
import json

CDD_OK, CDD_E_INVALID, CDD_E_NOT_FOUND, CDD_E_CAPACITY_TYPE = 0, 1, 3, 5
CDD_E_TRANSIENT, CDD_E_UNSUPPORTED, CDD_E_INTERNAL, CDD_E_ABI = 9, 10, 11, 12
ABI_VERSION = (1 << 16) | 0


class Error(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("http_status", ctypes.c_int32),
                ("retry_after_ms", ctypes.c_uint32), ("reserved0", ctypes.c_uint32),
                ("provider_code", ctypes.c_char * 64), ("message", ctypes.c_char * 512)]

    @classmethod
    def new(cls):
        e = cls()
        e.struct_size = ctypes.sizeof(cls)
        return e


LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int32, ctypes.c_char_p)
HOST_EXT_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)


class Host(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("abi_version", ctypes.c_uint32), ("host_ctx", ctypes.c_void_p),
                ("log", LOG_FN), ("get_extension", HOST_EXT_FN), ("reserved", ctypes.c_void_p * 8)]


CAPS_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(Error))
OPEN_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                           ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(Error))
CLOSE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
OP_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p),
                         ctypes.POINTER(Error))
EXT_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)
FREE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
OPS = ("capacity", "submit", "list", "cancel", "release", "log_tail")


class Executor(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("abi_version", ctypes.c_uint32), ("executor_ctx", ctypes.c_void_p),
                ("id", ctypes.c_char_p), ("version", ctypes.c_char_p), ("description", ctypes.c_char_p),
                ("capabilities", CAPS_FN), ("open_backend", OPEN_FN), ("close_backend", CLOSE_FN)]
    _fields_ += [(name, OP_FN) for name in OPS]
    _fields_ += [("get_extension", EXT_FN), ("free_string", FREE_FN), ("reserved", ctypes.c_void_p * 16)]


class Failure(Exception):
    def __init__(self, status, message):
        super().__init__(f"status {status}: {message}")
        self.status, self.message = status, message


class Plugin:
    """A loaded backend library and its table."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
        self.logs = []
        agreed = ctypes.c_uint32()
        assert self.lib.cdx_negotiate(ctypes.c_uint32(ABI_VERSION), ctypes.byref(agreed)) == CDD_OK
        self._log = LOG_FN(lambda ctx, level, msg: self.logs.append((level, msg.decode())))
        self._ext = HOST_EXT_FN(lambda ctx, name: None)
        self.host = Host(struct_size=ctypes.sizeof(Host), abi_version=agreed.value, log=self._log, get_extension=self._ext)
        self.table = Executor()
        self.table.struct_size = ctypes.sizeof(Executor)
        err = Error.new()
        self.lib.cdx_open.argtypes = [ctypes.c_uint32, ctypes.POINTER(Host), ctypes.POINTER(Executor), ctypes.POINTER(Error)]
        status = self.lib.cdx_open(agreed.value, ctypes.byref(self.host), ctypes.byref(self.table), ctypes.byref(err))
        assert status == CDD_OK, err.message

    def take(self, pointer):
        text = ctypes.string_at(pointer.value).decode()
        self.table.free_string(self.table.executor_ctx, pointer.value)
        return json.loads(text)

    def capabilities(self):
        out, err = ctypes.c_void_p(), Error.new()
        status = self.table.capabilities(self.table.executor_ctx, ctypes.byref(out), ctypes.byref(err))
        if status != CDD_OK:
            raise Failure(status, err.message.decode())
        return self.take(out)

    def open(self, dispatcher_id, config):
        handle, err = ctypes.c_void_p(), Error.new()
        text = config if isinstance(config, str) else json.dumps(config)
        status = self.table.open_backend(self.table.executor_ctx, dispatcher_id.encode(), text.encode(),
                                         ctypes.byref(handle), ctypes.byref(err))
        if status != CDD_OK:
            raise Failure(status, err.message.decode())
        return Backend(self, handle)


class Backend:
    """One open backend; each operation takes and returns a dict, or raises Failure."""

    def __init__(self, plugin, handle):
        self.plugin, self.handle = plugin, handle

    def call(self, op, request):
        out, err = ctypes.c_void_p(), Error.new()
        text = request if isinstance(request, str) else json.dumps(request)
        status = getattr(self.plugin.table, op)(self.handle, text.encode(), ctypes.byref(out), ctypes.byref(err))
        if status != CDD_OK:
            assert not out.value, f"{op}: *out_json set on an error"
            raise Failure(status, err.message.decode())
        return self.plugin.take(out)

    def close(self):
        self.plugin.table.close_backend(self.handle)
