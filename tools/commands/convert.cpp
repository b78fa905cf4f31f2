// `zanj convert`: between .zanj, .npy, .npz and .safetensors, through the library's readers and
// writers; trees become flat files by flatten_arrays and come back by unflatten_arrays.

#include "cli.hpp"

#include <zanj/error.hpp>
#include <zanj/facade.hpp>
#include <zanj/flatten.hpp>
#include <zanj/load_any.hpp>
#include <zanj/npz.hpp>
#include <zanj/safetensors.hpp>
#include <zanj/types/value.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <string>

namespace zanj::cli {

int run_convert(const convert_options& o) {
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
        tree = load_any(o.in);
    }

    if (ext == ".zanj") {
        // Flat names with '/' become nested dicts again, as they were before flattening.
        if (tree.is_dict()) {
            bool nested = false;
            for (const auto& [key, item] : tree.as_dict()) nested = nested || key.find('/') != std::string::npos;
            if (nested) tree = unflatten_arrays(tree);
        }
        config settings;
        if (o.compress) settings.compress = compression_policy::python();
        ZANJ(settings).save(tree, o.out);
        return exit_ok;
    }

    // Already flat (from .npz or .safetensors, names may hold '/'): kept as it is.
    bool flat_already = tree.is_dict();
    if (flat_already)
        for (const auto& [key, item] : tree.as_dict()) flat_already = flat_already && item.is_array();
    const value flat = tree.is_array() || flat_already ? tree : flatten_arrays(tree, {o.skip_non_arrays});
    if (ext == ".npy") {
        if (tree.is_array()) {
            write_npy(o.out, tree.as_array());
        } else if (flat.size() == 1) {
            write_npy(o.out, flat.as_dict().begin()->second.as_array());
        } else {
            throw usage_error("convert: " + o.in.string() + " holds " + std::to_string(flat.size()) +
                              " arrays; a .npy file holds exactly one");
        }
    } else {
        value named = flat;
        if (tree.is_array()) { // a lone array gets a name, as np.savez names positional arrays
            named = value::dict();
            named["arr_0"] = tree;
        }
        if (ext == ".npz")
            write_npz(o.out, named, {o.compress ? compression_method::deflate : compression_method::store});
        else
            write_safetensors(o.out, named, metadata);
    }
    return exit_ok;
}

} // namespace zanj::cli
