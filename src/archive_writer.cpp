#include <zanj/detail/archive_writer.hpp>

#include <zanj/detail/array_codec.hpp>
#include <zanj/detail/codec.hpp>
#include <zanj/detail/json_io.hpp>
#include <zanj/detail/npy.hpp>
#include <zanj/detail/parallel.hpp>
#include <zanj/detail/sysinfo.hpp>
#include <zanj/detail/zip.hpp>

#include <bit>
#include <chrono>
#include <utility>

namespace zanj::detail {

namespace {

void write_path(json_text& out, const object_path& path) {
    out.begin_list();
    for (const auto& segment : path.segments()) {
        if (const auto* key = std::get_if<std::string>(&segment))
            out.string(*key);
        else
            out.unsigned_integer(std::get<std::size_t>(segment));
    }
    out.end_list();
}

value describe_compression(const compression& c) {
    value::dict_type d;
    d.insert_or_assign("method", std::string(to_string(c.method)));
    d.insert_or_assign("level", c.level);
    if (c.adaptive) d.insert_or_assign("adaptive", true);
    return value(std::move(d));
}

value compression_json(const compression_policy& policy) {
    // Python stores the zipfile constant its bool became; do the same for its two layouts.
    if (policy == compression_policy::python()) return value(8);
    if (policy == compression_policy::none()) return value(0);
    value::dict_type out;
    out.insert_or_assign("json", describe_compression(policy.json));
    out.insert_or_assign("arrays", describe_compression(policy.arrays));
    return value(std::move(out));
}

value storage_hints_json(const std::vector<storage_hint>& hints) {
    value::list_type out;
    for (const storage_hint& h : hints) {
        value::dict_type d;
        d.insert_or_assign("path", h.path);
        if (h.external) d.insert_or_assign("external", *h.external);
        if (h.array_mode) d.insert_or_assign("array_mode", std::string(to_string(*h.array_mode)));
        if (h.compression) d.insert_or_assign("compression", describe_compression(*h.compression));
        out.emplace_back(std::move(d));
    }
    return value(std::move(out));
}

constexpr std::string_view tree_member = "__zanj__.json";
constexpr std::string_view meta_member = "__zanj_meta__.json";

std::span<const std::byte> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

} // namespace

struct archive_writer::impl {
    impl(std::unique_ptr<zip_writer> z, const config& s, const loader_registry& r)
        : owned(std::move(z)), zip(*owned), settings(s), registry(r), keep_recent(false) {
        // Pages of a reservation cost nothing until they are written.
        externals_text.reserve(externals_piece_size);
        externals.begin_object();
    }
    impl(zip_writer& z, const config& s, const loader_registry& r)
        : zip(z), settings(s), registry(r), keep_recent(true) {
        externals.begin_object();
    }

    std::unique_ptr<zip_writer> owned;
    zip_writer& zip;
    const config& settings;
    const loader_registry& registry;
    // externals_info as JSON text, one entry per member as the members are written: the object
    // sits one level deep in the meta. With 10,000 arrays, building it as a tree, writing and
    // freeing it was a fifth of the save. A save's meta takes the text as pieces: full ones
    // move to `externals_pieces`, so that it never grows by doubling (a copy and fresh pages
    // at each step).
    static constexpr std::size_t externals_piece_size = std::size_t{1} << 20;
    std::string externals_text;
    std::vector<std::string> externals_pieces;
    json_text externals{externals_text, {.indent = 1}, 1};
    // Only an editor takes the members written back (take_written), and it gives its own meta.
    const bool keep_recent;
    struct recent_entry {
        std::string member;
        std::size_t begin, end; // its entry in externals_text
    };
    std::vector<recent_entry> recent; // members written since take_written()
    std::uint64_t bytes_done = 0;

    // Reports a member of `size` uncompressed bytes as written.
    void written(std::uint64_t size) {
        bytes_done += size;
        if (settings.progress) settings.progress(bytes_done);
    }

    // The externals_info entry of a member, as Python writes it: `fields` writes what follows
    // its item_type and path.
    template <class Fields>
    void record(const std::string& member, std::string_view item_type, const object_path& path, Fields&& fields) {
        externals.key(member);
        const std::size_t begin = externals_text.size();
        externals.begin_object();
        externals.key("item_type");
        externals.string(item_type);
        externals.key("path");
        write_path(externals, path);
        fields();
        externals.end_object();
        if (keep_recent) {
            recent.push_back({member, begin, externals_text.size()});
        } else if (externals_text.size() >= externals_piece_size) {
            externals_pieces.push_back(std::move(externals_text));
            externals_text.clear();
            externals_text.reserve(externals_piece_size);
        }
    }

    void record_npy(const std::string& member, const object_path& path, const array_view& array) {
        record(member, "npy", path, [&] {
            externals.key("type(data)");
            externals.string("<class 'numpy.ndarray'>");
            externals.key("len(data)");
            externals.unsigned_integer(array.shape.empty() ? 0 : array.shape[0]);
            externals.key("shape");
            externals.begin_list();
            for (std::size_t extent : array.shape) externals.unsigned_integer(extent);
            externals.end_list();
            externals.key("dtype");
            externals.string(dtype_name(array.type));
            externals.key("n_elements");
            externals.unsigned_integer(shape_elements(array.shape));
        });
    }

    // The tree first: it is compressed on the zip writer's thread while the meta is written.
    void add_tree(const value& tree) {
        // Room for about as much text as externals_info, whose entries the tree's stubs resemble:
        // a reservation costs nothing unused, and growing by doubling cost (b) 850 fresh pages.
        std::string text;
        std::size_t externals_size = externals_text.size();
        for (const std::string& piece : externals_pieces) externals_size += piece.size();
        text.reserve(externals_size);
        write_json(tree, text, {.indent = 1});
        add_json(tree_member, {std::move(text)});
    }
    void add_meta_and_commit(std::vector<std::string> meta_pieces) {
        add_json(meta_member, std::move(meta_pieces));
        zip.commit();
    }
    void add_json(std::string_view name, std::vector<std::string> pieces) {
        std::size_t size = 0;
        for (const std::string& piece : pieces) size += piece.size();
        zip.add_owned(name, std::move(pieces),
                      {.compression = settings.compress.json, .threads = resolve_threads(settings.threads)});
        written(size);
    }

    member_options options_for(const compression& c) const {
        return {.compression = c, .force_zip64 = true, .align = 64, .threads = resolve_threads(settings.threads)};
    }
};

archive_writer::archive_writer(const std::filesystem::path& file, const config& settings,
                               const loader_registry& registry)
    : impl_(std::make_unique<impl>(std::make_unique<zip_writer>(file), settings, registry)) {}

archive_writer::archive_writer(in_memory_t, const config& settings, const loader_registry& registry)
    : impl_(
          std::make_unique<impl>(std::make_unique<zip_writer>(in_memory, "<archive in memory>"), settings, registry)) {}

archive_writer::archive_writer(zip_writer& zip, const config& settings, const loader_registry& registry)
    : impl_(std::make_unique<impl>(zip, settings, registry)) {}

const zip_writer& archive_writer::zip() const noexcept { return impl_->zip; }

std::vector<archive_writer::written_external> archive_writer::take_written() {
    if (!impl_->keep_recent) throw usage_error("archive_writer::take_written is for writers into a caller's zip");
    std::vector<written_external> out;
    for (auto& entry : std::exchange(impl_->recent, {})) {
        value info = parse_json(std::string_view(impl_->externals_text).substr(entry.begin, entry.end - entry.begin),
                                "externals_info");
        out.push_back({std::move(entry.member), std::move(info)});
    }
    return out;
}

archive_writer::~archive_writer() = default;

void archive_writer::add_npy(const std::string& member, const object_path& path, const array_view& array,
                             const compression& method) {
    const std::size_t nbytes = shape_elements(array.shape) * dtype_size(array.type);
    member_options options = impl_->options_for(method);
    const std::span<const std::byte> data{array.data, nbytes};
    std::string header;
    if (options.compression.adaptive) { // chosen once, here
        header = npy_header(array.type, array.shape);
        const std::span<const std::byte> sampled[] = {as_bytes(header), data};
        options.compression.method = choose_method(options.compression, sampled);
        options.compression.adaptive = false;
    }
    if (nbytes < small_array_bytes) {
        // Small arrays: the per-member bytes are most of the overhead (see config::small_array_alignment).
        const std::size_t align = impl_->settings.small_array_alignment;
        if (align == 0 || align > 64 || !std::has_single_bit(align))
            throw usage_error("config::small_array_alignment is " + std::to_string(align) +
                              ", not a power of two up to 64");
        options.force_zip64 = false;
        options.align = 0;
        // Only a stored array is aligned: asking where it goes would wait for the members
        // compressing beside this one.
        if (options.compression.method == compression_method::store)
            header = npy_header_aligned_at(array.type, array.shape,
                                           impl_->zip.next_data_offset(member, nbytes + 128, options), align);
    }
    if (header.empty()) header = npy_header(array.type, array.shape);
    const std::span<const std::byte> pieces[] = {as_bytes(header), data};
    // A member compresses on one core: a copy of this one lets it compress beside the next
    // (small ones in batches), on the zip writer's threads.
    impl_->zip.add_copied(member, pieces, options);
    impl_->record_npy(member, path, array);
    impl_->written(header.size() + nbytes);
}

void archive_writer::add_npy_chunked(const std::string& member, const object_path& path, const chunked_array& array,
                                     const compression& method) {
    std::string header = npy_header(array.type(), array.shape());
    const std::size_t element = dtype_size(array.type());
    // The writer asks for 8 MiB pieces, whole elements for every dtype size.
    impl_->zip.add_streamed(
        member, as_bytes(header), array.nbytes(),
        [&](std::uint64_t offset, std::span<std::byte> out) {
            array.fill(static_cast<std::size_t>(offset / element), out);
        },
        impl_->options_for(method));
    impl_->record_npy(member, path, {array.type(), array.shape(), nullptr});
    impl_->written(header.size() + array.nbytes());
}

void archive_writer::add_jsonl(const std::string& member, const object_path& path, std::vector<std::string> pieces,
                               std::size_t length, std::string_view kind, const compression& method) {
    std::size_t size = 0;
    for (const std::string& piece : pieces) size += piece.size();
    // Compressed on the zip writer's thread while the caller serializes what comes next.
    impl_->zip.add_owned(member, std::move(pieces), impl_->options_for(method));
    impl_->written(size);
    json_text& t = impl_->externals;
    impl_->record(member, "jsonl", path, [&] {
        t.key("type(data)");
        t.string("<class '" + std::string(kind) + "'>");
        t.key("len(data)");
        t.unsigned_integer(length);
    });
}

void archive_writer::finish(const value& tree) {
    impl_->add_tree(tree);
    const config& s = impl_->settings;

    value::dict_type cfg;
    cfg.insert_or_assign("error_mode", std::string(to_string(s.error_mode)));
    cfg.insert_or_assign("array_mode", std::string(to_string(s.internal_array_mode)));
    cfg.insert_or_assign("external_array_threshold", s.external_array_threshold);
    cfg.insert_or_assign("external_list_threshold", s.external_list_threshold);
    cfg.insert_or_assign("compress", compression_json(s.compress));
    if (!s.storage_hints.empty()) cfg.insert_or_assign("storage_hints", storage_hints_json(s.storage_hints));
    if (s.schema != schema_options{}) {
        value::dict_type schema;
        schema.insert_or_assign("missing_fields", std::string(to_string(s.schema.missing_fields)));
        schema.insert_or_assign("unknown_fields", std::string(to_string(s.schema.unknown_fields)));
        cfg.insert_or_assign("schema", value(std::move(schema)));
    }
    // Run-time marshalers come first, as they are tried first (Python lists handlers_pre first).
    const marshaler_registry& marshalers = impl_->registry.marshalers();
    value::list_type handlers;
    for (const marshaler_info& m : marshalers.list()) {
        value::dict_type d;
        d.insert_or_assign("uid", m.format);
        d.insert_or_assign("source_pckg", "zanj-cpp run-time marshaler");
        d.insert_or_assign("type", m.type);
        d.insert_or_assign("priority", m.priority);
        d.insert_or_assign("desc", m.description);
        handlers.emplace_back(std::move(d));
    }
    value builtin = serialization_handler_descriptions();
    for (auto& h : builtin.as_list()) handlers.push_back(std::move(h));
    cfg.insert_or_assign("serialization_handlers", value(std::move(handlers)));
    value::list_type loaders;
    for (const auto& l : impl_->registry.loaders()) {
        value::dict_type d;
        d.insert_or_assign("uid", l.format);
        d.insert_or_assign("match", l.prefix ? "prefix" : "exact");
        const auto* m = l.prefix ? nullptr : marshalers.find(l.format);
        d.insert_or_assign("priority", m ? m->priority : 0);
        d.insert_or_assign("desc", l.description);
        loaders.emplace_back(std::move(d));
    }
    cfg.insert_or_assign("load_handlers", value(std::move(loaders)));

    impl_->externals.end_object();
    // externals_info is most of the meta (2.4 MB for 10,000 arrays): it goes in as the pieces
    // it was written in, between the text before it and the text after it.
    std::string meta;
    json_text t(meta, {.indent = 1});
    t.begin_object();
    t.key("zanj_cfg");
    t.tree(value(std::move(cfg)));
    t.key("sysinfo");
    t.tree(system_description());
    t.key("externals_info");
    t.raw("");
    const std::size_t externals_at = meta.size();
    t.key("timestamp");
    t.floating(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    t.end_object();
    std::vector<std::string> pieces;
    pieces.reserve(impl_->externals_pieces.size() + 3);
    pieces.push_back(meta.substr(0, externals_at));
    for (std::string& piece : impl_->externals_pieces) pieces.push_back(std::move(piece));
    pieces.push_back(std::move(impl_->externals_text));
    pieces.push_back(meta.substr(externals_at));
    impl_->add_meta_and_commit(std::move(pieces));
}

void archive_writer::finish(const value& tree, const value& meta) {
    impl_->add_tree(tree);
    impl_->add_meta_and_commit({write_json(meta, {.indent = 1})});
}

std::filesystem::path prepare_save_path(const std::filesystem::path& file) {
    if (file.empty()) throw usage_error("cannot save to an empty path");
    std::filesystem::path target = file;
    if (target.extension() != ".zanj") target += ".zanj";
    std::filesystem::path parent = target.parent_path();
    if (!parent.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(parent, ec);
        if (ec) throw io_error("cannot create the folder " + parent.string() + ": " + ec.message());
    }
    return target;
}

} // namespace zanj::detail
