// `zanj convert`: between .zanj, .npy, .npz and .safetensors, through the library's readers and
// writers; trees become flat files by flatten_arrays and come back by unflatten_arrays.

#include "cli.hpp"
#include "progress.hpp"

#include <zanj/error.hpp>
#include <zanj/facade.hpp>
#include <zanj/flatten.hpp>
#include <zanj/load_any.hpp>
#include <zanj/npz.hpp>
#include <zanj/safetensors.hpp>
#include <zanj/types/value.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <string>

namespace zanj::cli {

namespace {

template <class Visit>
void for_each_array(const value& v, const Visit& visit) {
    if (v.is_array()) visit(v.as_array());
    if (v.is_dict())
        for (const auto& [key, item] : v.as_dict()) for_each_array(item, visit);
    if (v.is_list())
        for (const value& item : v.as_list()) for_each_array(item, visit);
}

// The bytes of every array in `v`: what a conversion writes, to within the headers and JSON.
std::uint64_t array_bytes(const value& v) {
    std::uint64_t total = 0;
    for_each_array(v, [&](const ndarray& a) { total += a.nbytes(); });
    return total;
}

// True when an array small enough to be written inline holds a NaN: a JSON list keeps it a NaN
// but loses its sign and payload bits, which base64 keeps.
bool inline_nan(const value& v, std::size_t threshold) {
    bool found = false;
    for_each_array(v, [&](const ndarray& a) {
        for (std::size_t i = 0; !found && a.size() < threshold && i < a.size(); ++i)
            found = std::isnan(element_real(a, i)) || std::isnan(element_imag(a, i));
    });
    return found;
}

void write_zanj(value tree, const convert_options& o, const progress_callback& progress) {
    // Flat names with '/' become nested dicts again, as they were before flattening.
    if (tree.is_dict()) {
        bool nested = false;
        for (const auto& [key, item] : tree.as_dict()) nested = nested || key.find('/') != std::string::npos;
        if (nested) tree = unflatten_arrays(tree);
    }
    config settings;
    if (o.compress) settings.compress = compression_policy::python();
    // Conversions keep every bit.
    if (inline_nan(tree, settings.external_array_threshold)) settings.internal_array_mode = array_mode::array_b64_meta;
    settings.progress = progress;
    ZANJ(settings).save(tree, o.out);
}

void write_flat(const value& tree, const std::string& ext, const std::map<std::string, std::string>& metadata,
                const convert_options& o, const progress_callback& progress) {
    // Already flat (from .npz or .safetensors, names may hold '/'): kept as it is.
    bool flat_already = tree.is_dict();
    if (flat_already)
        for (const auto& [key, item] : tree.as_dict()) flat_already = flat_already && item.is_array();
    const value flat = tree.is_array() || flat_already ? tree : flatten_arrays(tree, {o.skip_non_arrays});
    if (ext == ".npy") {
        if (tree.is_array()) {
            write_npy(o.out, tree.as_array(), progress);
        } else if (flat.size() == 1) {
            write_npy(o.out, flat.as_dict().begin()->second.as_array(), progress);
        } else {
            throw usage_error("convert: " + o.in.string() + " holds " + std::to_string(flat.size()) +
                              " arrays; a .npy file holds exactly one");
        }
        return;
    }
    value named = flat;
    if (tree.is_array()) { // a lone array gets a name, as np.savez names positional arrays
        named = value::dict();
        named["arr_0"] = tree;
    }
    if (ext == ".npz")
        write_npz(o.out, named, {o.compress ? compression_method::deflate : compression_method::store}, progress);
    else
        write_safetensors(o.out, named, metadata, progress);
}

} // namespace

int run_convert(const convert_options& o, const read_limits& limits) {
    std::string ext = o.out.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext != ".zanj" && ext != ".npz" && ext != ".npy" && ext != ".safetensors")
        throw usage_error("convert: OUT must end in .zanj, .npz, .npy or .safetensors: " + o.out.string());
    if (o.compress && ext != ".zanj" && ext != ".npz")
        throw usage_error("convert: --compress applies to .zanj and .npz output only");

    const file_format in_format = detect_format(o.in);
    std::map<std::string, std::string> metadata;
    value tree;
    if (in_format == file_format::safetensors) {
        safetensors_file f = read_safetensors(o.in);
        tree = std::move(f.tensors);
        metadata = std::move(f.metadata);
    } else {
        tree = load_any(o.in, limits);
    }

    const std::uint64_t total = array_bytes(tree);
    progress_bar bar("writing " + o.out.filename().string(), total, o.progress && want_progress(total));
    if (ext == ".zanj")
        write_zanj(std::move(tree), o, bar.callback());
    else
        write_flat(tree, ext, metadata, o, bar.callback());
    bar.finish();
    return exit_ok;
}

} // namespace zanj::cli
