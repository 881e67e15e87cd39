// The C shim over libonnx: parse with ONNX's own loader, check with ONNX's checker, and hand
// out plain C views of initializers, metadata and nodes. Every C++ exception stops here.
#include "engram_onnx.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "onnx/checker.h"
#include "onnx/common/file_utils.h"
#include "onnx/onnx_pb.h"

namespace ONNX_NAMESPACE {
namespace checker {
// Defined and exported by libonnx 1.12 (check_model(path) calls it), not declared in its header.
void check_model(const ModelProto& model, CheckerContext& ctx);
} // namespace checker
} // namespace ONNX_NAMESPACE

struct engram_onnx_model {
    onnx::ModelProto proto;
    std::string path;
    std::string dir;
};

namespace {

void set_error(char *err, size_t cap, const std::string &msg) {
    if (err == nullptr || cap == 0) return;
    size_t n = msg.size() < cap - 1 ? msg.size() : cap - 1;
    std::memcpy(err, msg.data(), n);
    err[n] = '\0';
}

// Runs f, turning every exception into a status and a message.
template <typename F>
int guarded(char *err, size_t cap, const char *what, F &&f) {
    try {
        return f();
    } catch (const onnx::checker::ValidationError &e) {
        set_error(err, cap, std::string(what) + ": " + e.what());
        return ENGRAM_ONNX_E_FORMAT;
    } catch (const std::bad_alloc &) {
        set_error(err, cap, std::string(what) + ": out of memory");
        return ENGRAM_ONNX_E_OUT_OF_MEMORY;
    } catch (const std::exception &e) {
        set_error(err, cap, std::string(what) + ": " + e.what());
        return ENGRAM_ONNX_E_FORMAT;
    } catch (...) {
        set_error(err, cap, std::string(what) + ": unknown C++ exception");
        return ENGRAM_ONNX_E_INTERNAL;
    }
}

std::string parent_dir(const std::string &path) {
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

} // namespace

extern "C" int engram_onnx_load(const char *path, engram_onnx_model **out, char *err, size_t err_cap) {
    if (path == nullptr || out == nullptr) {
        set_error(err, err_cap, "engram_onnx_load: NULL argument");
        return ENGRAM_ONNX_E_INVALID_ARGUMENT;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        set_error(err, err_cap, std::string("cannot open ") + path + ": " + std::strerror(errno));
        return ENGRAM_ONNX_E_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        set_error(err, err_cap, std::string(path) + " is not a regular file");
        return ENGRAM_ONNX_E_IO;
    }
    if (st.st_size == 0) {
        set_error(err, err_cap, std::string(path) + " is empty, not an ONNX model");
        return ENGRAM_ONNX_E_FORMAT;
    }
    return guarded(err, err_cap, path, [&]() -> int {
        auto *m = new engram_onnx_model();
        try {
            m->path = path;
            m->dir = parent_dir(m->path);
            onnx::LoadProtoFromPath(m->path, m->proto);
        } catch (...) {
            delete m;
            throw;
        }
        *out = m;
        return ENGRAM_ONNX_OK;
    });
}

extern "C" void engram_onnx_free(engram_onnx_model *model) {
    delete model;
}

extern "C" int engram_onnx_check(const engram_onnx_model *model, char *err, size_t err_cap) {
    if (model == nullptr) {
        set_error(err, err_cap, "engram_onnx_check: NULL model");
        return ENGRAM_ONNX_E_INVALID_ARGUMENT;
    }
    return guarded(err, err_cap, "ONNX checker", [&]() -> int {
        onnx::checker::CheckerContext ctx;
        ctx.set_model_dir(model->dir);
        onnx::checker::check_model(model->proto, ctx);
        return ENGRAM_ONNX_OK;
    });
}

extern "C" int64_t engram_onnx_ir_version(const engram_onnx_model *model) {
    return model ? model->proto.ir_version() : -1;
}

extern "C" int64_t engram_onnx_opset(const engram_onnx_model *model) {
    if (!model) return -1;
    for (const auto &o : model->proto.opset_import()) {
        if (o.domain().empty() || o.domain() == "ai.onnx") return o.version();
    }
    return -1;
}

extern "C" const char *engram_onnx_producer(const engram_onnx_model *model) {
    return model ? model->proto.producer_name().c_str() : "";
}

extern "C" size_t engram_onnx_initializer_count(const engram_onnx_model *model) {
    return model ? static_cast<size_t>(model->proto.graph().initializer_size()) : 0;
}

extern "C" int engram_onnx_initializer(const engram_onnx_model *model, size_t i, engram_onnx_tensor *out,
                                       char *err, size_t err_cap) {
    if (model == nullptr || out == nullptr) {
        set_error(err, err_cap, "engram_onnx_initializer: NULL argument");
        return ENGRAM_ONNX_E_INVALID_ARGUMENT;
    }
    const auto &g = model->proto.graph();
    if (i >= static_cast<size_t>(g.initializer_size())) {
        set_error(err, err_cap, "initializer index " + std::to_string(i) + " out of range");
        return ENGRAM_ONNX_E_INVALID_ARGUMENT;
    }
    return guarded(err, err_cap, "initializer", [&]() -> int {
        const onnx::TensorProto &t = g.initializer(static_cast<int>(i));
        engram_onnx_tensor r;
        std::memset(&r, 0, sizeof r);
        r.name = t.name().c_str();
        r.data_type = t.data_type();
        r.rank = t.dims_size();
        r.dims = t.dims().data();
        r.has_raw_data = t.has_raw_data() ? 1 : 0;
        r.raw_data = t.raw_data().data();
        r.raw_size = t.raw_data().size();
        r.typed_field = ENGRAM_ONNX_TYPED_NONE;
        if (t.float_data_size() > 0) {
            r.typed_field = ENGRAM_ONNX_TYPED_FLOAT;
            r.typed_data = t.float_data().data();
            r.typed_count = static_cast<size_t>(t.float_data_size());
        } else if (t.int32_data_size() > 0) {
            r.typed_field = ENGRAM_ONNX_TYPED_INT32;
            r.typed_data = t.int32_data().data();
            r.typed_count = static_cast<size_t>(t.int32_data_size());
        } else if (t.int64_data_size() > 0) {
            r.typed_field = ENGRAM_ONNX_TYPED_INT64;
            r.typed_data = t.int64_data().data();
            r.typed_count = static_cast<size_t>(t.int64_data_size());
        } else if (t.double_data_size() > 0) {
            r.typed_field = ENGRAM_ONNX_TYPED_DOUBLE;
            r.typed_data = t.double_data().data();
            r.typed_count = static_cast<size_t>(t.double_data_size());
        } else if (t.uint64_data_size() > 0) {
            r.typed_field = ENGRAM_ONNX_TYPED_UINT64;
            r.typed_data = t.uint64_data().data();
            r.typed_count = static_cast<size_t>(t.uint64_data_size());
        } else if (t.string_data_size() > 0) {
            r.typed_field = ENGRAM_ONNX_TYPED_STRING;
            r.typed_count = static_cast<size_t>(t.string_data_size());
        }
        r.is_external = t.data_location() == onnx::TensorProto::EXTERNAL ? 1 : 0;
        r.length = -1;
        for (const auto &e : t.external_data()) {
            const std::string &k = e.key();
            if (k == "location") {
                // A NUL inside the location would cut it short in C (another file than the
                // one the protobuf names): refused, never silently truncated.
                if (e.value().find('\0') != std::string::npos) {
                    set_error(err, err_cap, "tensor " + t.name() + ": external data location contains a NUL byte");
                    return ENGRAM_ONNX_E_FORMAT;
                }
                r.location = e.value().c_str();
            } else if (k == "offset" || k == "length") {
                const std::string &v = e.value();
                char *end = nullptr;
                errno = 0;
                long long n = std::strtoll(v.c_str(), &end, 10);
                if (v.empty() || errno != 0 || end == nullptr || *end != '\0' || n < 0) {
                    set_error(err, err_cap, "tensor " + t.name() + ": external data " + k + " \"" + v +
                                                "\" is not a non-negative integer");
                    return ENGRAM_ONNX_E_FORMAT;
                }
                (k == "offset" ? r.offset : r.length) = static_cast<int64_t>(n);
            }
        }
        r.has_segment = t.has_segment() ? 1 : 0;
        *out = r;
        return ENGRAM_ONNX_OK;
    });
}

extern "C" size_t engram_onnx_metadata_count(const engram_onnx_model *model) {
    return model ? static_cast<size_t>(model->proto.metadata_props_size()) : 0;
}

extern "C" int engram_onnx_metadata(const engram_onnx_model *model, size_t i, const char **key, size_t *key_len,
                                    const char **value, size_t *value_len) {
    if (!model || !key || !key_len || !value || !value_len ||
        i >= static_cast<size_t>(model->proto.metadata_props_size()))
        return ENGRAM_ONNX_E_INVALID_ARGUMENT;
    const auto &e = model->proto.metadata_props(static_cast<int>(i));
    *key = e.key().data();
    *key_len = e.key().size();
    *value = e.value().data();
    *value_len = e.value().size();
    return ENGRAM_ONNX_OK;
}

extern "C" size_t engram_onnx_node_count(const engram_onnx_model *model) {
    return model ? static_cast<size_t>(model->proto.graph().node_size()) : 0;
}

static const onnx::NodeProto *node_at(const engram_onnx_model *model, size_t i) {
    if (!model || i >= static_cast<size_t>(model->proto.graph().node_size())) return nullptr;
    return &model->proto.graph().node(static_cast<int>(i));
}

extern "C" int engram_onnx_node_info(const engram_onnx_model *model, size_t i, engram_onnx_node *out) {
    const onnx::NodeProto *n = node_at(model, i);
    if (!n || !out) return ENGRAM_ONNX_E_INVALID_ARGUMENT;
    out->op_type = n->op_type().c_str();
    out->name = n->name().c_str();
    out->domain = n->domain().c_str();
    out->input_count = static_cast<size_t>(n->input_size());
    out->output_count = static_cast<size_t>(n->output_size());
    return ENGRAM_ONNX_OK;
}

extern "C" const char *engram_onnx_node_input(const engram_onnx_model *model, size_t i, size_t k) {
    const onnx::NodeProto *n = node_at(model, i);
    if (!n || k >= static_cast<size_t>(n->input_size())) return nullptr;
    return n->input(static_cast<int>(k)).c_str();
}

extern "C" const char *engram_onnx_node_output(const engram_onnx_model *model, size_t i, size_t k) {
    const onnx::NodeProto *n = node_at(model, i);
    if (!n || k >= static_cast<size_t>(n->output_size())) return nullptr;
    return n->output(static_cast<int>(k)).c_str();
}

extern "C" int engram_onnx_node_ints(const engram_onnx_model *model, size_t i, const char *attr,
                                     const int64_t **values, size_t *count) {
    const onnx::NodeProto *n = node_at(model, i);
    if (!n || !attr || !values || !count) return 0;
    for (const auto &a : n->attribute()) {
        if (a.name() == attr && a.type() == onnx::AttributeProto::INTS) {
            *values = a.ints().data();
            *count = static_cast<size_t>(a.ints_size());
            return 1;
        }
    }
    return 0;
}

extern "C" int engram_onnx_node_int(const engram_onnx_model *model, size_t i, const char *attr, int64_t *value) {
    const onnx::NodeProto *n = node_at(model, i);
    if (!n || !attr || !value) return 0;
    for (const auto &a : n->attribute()) {
        if (a.name() == attr && a.type() == onnx::AttributeProto::INT) {
            *value = a.i();
            return 1;
        }
    }
    return 0;
}

extern "C" size_t engram_onnx_graph_input_count(const engram_onnx_model *model) {
    return model ? static_cast<size_t>(model->proto.graph().input_size()) : 0;
}

extern "C" const char *engram_onnx_graph_input(const engram_onnx_model *model, size_t i) {
    if (!model || i >= static_cast<size_t>(model->proto.graph().input_size())) return nullptr;
    return model->proto.graph().input(static_cast<int>(i)).name().c_str();
}

extern "C" size_t engram_onnx_graph_output_count(const engram_onnx_model *model) {
    return model ? static_cast<size_t>(model->proto.graph().output_size()) : 0;
}

extern "C" const char *engram_onnx_graph_output(const engram_onnx_model *model, size_t i) {
    if (!model || i >= static_cast<size_t>(model->proto.graph().output_size())) return nullptr;
    return model->proto.graph().output(static_cast<int>(i)).name().c_str();
}
