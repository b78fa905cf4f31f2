#include <zanj/detail/zip.hpp>

#include "zip_format.hpp"

#include <zanj/detail/codec.hpp>
#include <zanj/detail/crc32.hpp>
#include <zanj/detail/file_io.hpp>
#include <zanj/detail/key_index.hpp>
#include <zanj/detail/parallel.hpp>
#include <zanj/error.hpp>

#include <algorithm>
#include <bit>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

namespace zanj::detail {

namespace {

namespace fs = std::filesystem;
namespace zf = zip_format;

// Small writes gather in a buffer; data pieces at least this big go straight from the caller's
// memory to the file, without a copy.
constexpr std::size_t direct_write_threshold = std::size_t{64} << 10;
constexpr std::size_t buffer_flush_threshold = std::size_t{1} << 20;
// Members written from a producer are asked for data in pieces of this size.
constexpr std::uint64_t stream_chunk_size = std::uint64_t{8} << 20;
// Checksumming beside the compression or the writing pays from this size on.
constexpr std::uint64_t crc_thread_threshold = std::uint64_t{1} << 20;
// How much of a known piece a streamed member compresses before checksumming it.
constexpr std::size_t checksum_slice_size = std::size_t{1} << 20;
// Deferred members below this size gather into batches of about this size, each compressed by
// one job: handing a member of a few KiB to a thread of its own would cost about what
// compressing it does.
constexpr std::uint64_t deferred_batch_size = std::uint64_t{1} << 20;
// The members compressing beside the caller hold at most this (or one member, when larger).
constexpr std::uint64_t deferred_budget = std::uint64_t{128} << 20;
// The padding field stores the alignment in 16 bits.
constexpr std::size_t max_align = std::size_t{1} << 15;

struct dos_stamp {
    std::uint16_t time = 0;
    std::uint16_t date = 0;
};

// Zip timestamps are local time in MS-DOS form: years 1980 to 2107, two-second steps.
dos_stamp dos_now() {
    std::time_t now = std::time(nullptr);
    std::tm t{};
    if (!localtime_r(&now, &t)) return {0, (1 << 5) | 1}; // 1980-01-01
    int year = std::clamp(t.tm_year + 1900, 1980, 2107);
    return {static_cast<std::uint16_t>((t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec / 2)),
            static_cast<std::uint16_t>(((year - 1980) << 9) | ((t.tm_mon + 1) << 5) | t.tm_mday)};
}

// What the central directory needs to know about a member already written.
struct member_record {
    std::string name;
    std::uint16_t method = 0;
    std::uint16_t version_needed = 0;
    std::uint16_t flags = zf::flag_utf8_name;
    dos_stamp stamp;
    std::uint32_t external_attributes = zf::unix_regular_file_0644;
    std::uint32_t crc32 = 0;
    std::uint64_t compressed_size = 0;
    std::uint64_t uncompressed_size = 0;
    std::uint64_t local_header_offset = 0;
};

// A member of the archive being updated, as its central directory described it.
member_record record_of(const zip_entry& e) {
    return {.name = e.name,
            .method = static_cast<std::uint16_t>(e.method),
            .version_needed = e.version_needed,
            .flags = e.flags,
            .stamp = {e.dos_time, e.dos_date},
            .external_attributes = e.external_attributes,
            .crc32 = e.crc32,
            .compressed_size = e.compressed_size,
            .uncompressed_size = e.uncompressed_size,
            .local_header_offset = e.local_header_offset};
}

std::uint32_t crc32_of(std::span<const std::span<const std::byte>> pieces) {
    std::uint32_t crc = 0;
    for (auto piece : pieces) crc = crc32(crc, piece);
    return crc;
}

std::vector<std::span<const std::byte>> spans_of(const std::vector<std::string>& pieces) {
    std::vector<std::span<const std::byte>> out;
    out.reserve(pieces.size());
    for (const std::string& p : pieces) out.emplace_back(reinterpret_cast<const std::byte*>(p.data()), p.size());
    return out;
}

// A write buffer, reserved once so that it never grows (a copy and fresh pages at each step):
// what is added to one below buffer_flush_threshold is a header (a name under 64 KiB, under 128
// bytes of extras) or data under direct_write_threshold. Pages of a reservation cost nothing
// unused.
std::vector<std::byte> reserved_buffer() {
    std::vector<std::byte> v;
    v.reserve(buffer_flush_threshold + (std::size_t{128} << 10));
    return v;
}

// A byte_buffer's insert() constructs byte after byte through its allocator: appending 16 MiB
// took 11.5 ms against 8.7 for a memcpy (fresh memory both).
void append(byte_buffer& out, std::span<const std::byte> bytes) {
    if (bytes.empty()) return;
    const std::size_t at = out.size();
    out.resize(at + bytes.size());
    std::memcpy(out.data() + at, bytes.data(), bytes.size());
}

std::uint32_t field32(std::uint64_t v) { return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, zf::max32)); }

void append_central_header(std::vector<std::byte>& out, const member_record& m) {
    // ZIP64 in the central directory carries exactly the fields that overflow, in APPNOTE order.
    std::vector<std::uint64_t> zip64_fields;
    if (m.uncompressed_size >= zf::max32) zip64_fields.push_back(m.uncompressed_size);
    if (m.compressed_size >= zf::max32) zip64_fields.push_back(m.compressed_size);
    if (m.local_header_offset >= zf::max32) zip64_fields.push_back(m.local_header_offset);
    std::size_t extra_size = zip64_fields.empty() ? 0 : 4 + 8 * zip64_fields.size();

    zf::field_writer f(out);
    f.u32(zf::central_header_signature);
    f.u16(static_cast<std::uint16_t>(zf::host_unix << 8 | m.version_needed)); // version made by
    f.u16(m.version_needed);
    f.u16(m.flags);
    f.u16(m.method);
    f.u16(m.stamp.time);
    f.u16(m.stamp.date);
    f.u32(m.crc32);
    f.u32(field32(m.compressed_size));
    f.u32(field32(m.uncompressed_size));
    f.u16(static_cast<std::uint16_t>(m.name.size()));
    f.u16(static_cast<std::uint16_t>(extra_size));
    f.u16(0); // comment length
    f.u16(0); // disk number start
    f.u16(0); // internal attributes
    f.u32(m.external_attributes);
    f.u32(field32(m.local_header_offset));
    f.text(m.name);
    if (!zip64_fields.empty()) {
        f.u16(zf::zip64_extra_id);
        f.u16(static_cast<std::uint16_t>(8 * zip64_fields.size()));
        for (std::uint64_t v : zip64_fields) f.u64(v);
    }
}

} // namespace

struct zip_writer::impl {
    enum class state { open, committed, failed };

    fs::path destination;
    fs::path temp_path; // empty when writing in memory or in place
    file_handle file;
    bool in_place = false;
    state status = state::open;
    dos_stamp stamp = dos_now();
    std::uint64_t position = 0;                         // file offset of the next byte, buffered bytes included
    std::vector<std::byte> pending = reserved_buffer(); // what put() gathers for the next write
    std::vector<member_record> members;
    key_index names; // members by name: a hash set of strings cost 7% of saving 10,000 arrays

    // Deferred members have their place here from their add on (see defer).
    bool has_member(std::string_view name) const {
        return names.find(name, key_index::hash(name),
                          [&](std::size_t i) -> std::string_view { return members[i].name; }) >= 0;
    }
    // Adds a member known to be new.
    void push_member(member_record m) {
        members.push_back(std::move(m));
        names.add_growing(members.size() - 1, key_index::hash(members.back().name), members.size(),
                          [&](std::size_t i) -> std::string_view { return members[i].name; });
    }
    // The record of a new member of `size` bytes, stored (sizes known) or not (compressed size
    // to come).
    member_record record_of_new(std::string_view name, compression_method method, std::uint64_t size) const {
        member_record m;
        m.name = std::string(name);
        m.stamp = stamp;
        m.method = static_cast<std::uint16_t>(method);
        m.uncompressed_size = size;
        if (method == compression_method::store) m.compressed_size = size;
        return m;
    }
    void reindex_names() {
        names.reset(2 * members.size());
        for (std::size_t i = 0; i < members.size(); ++i) names.add(i, key_index::hash(members[i].name));
    }
    byte_buffer compressed;               // reused from member to member
    std::optional<writeback_pacer> pacer; // for a file that will be fsynced: not one in memory

    writeback_pacer* pacing() noexcept { return pacer ? &*pacer : nullptr; }

    // A member of add_owned's or add_copied's, compressed beside the caller's work and written
    // later, in the order of the adds. Its record in `members` is filled in when it is written.
    struct deferred_member {
        std::size_t index = 0;          // in `members`
        member_options options;         // its compression chosen: deflate or zstd
        std::vector<std::string> owned; // add_owned's pieces, dropped once compressed
        std::size_t copied_at = 0;      // add_copied's bytes, in the batch's `copied`
        std::size_t copied_size = 0;
        std::size_t compressed_at = 0; // in the batch's `compressed`
        std::size_t compressed_size = 0;
        std::uint32_t crc32 = 0;
    };
    // Consecutive deferred members compressed together, by a worker or by the caller: small
    // members gather in batches, so that handing them over costs little beside compressing them.
    // Their bytes share buffers, reused from batch to batch: a buffer per member of a few KiB
    // met fresh pages every time, and faulting them in cost a third of the caller's time.
    struct deferred_batch {
        std::vector<deferred_member> members;
        byte_buffer copied;
        byte_buffer compressed;
        byte_buffer scratch;        // one member's output
        std::uint64_t bytes = 0;    // the members' sizes
        bool sealed = false;        // no member joins it any more (the caller's own flag)
        bool done = false;          // compressed (guarded by batch_mutex)
        std::exception_ptr failure; // what compressing it threw
    };
    std::vector<std::unique_ptr<deferred_batch>> deferred; // oldest first, the last maybe gathering
    std::uint64_t deferred_bytes = 0;                      // the sizes of the members in `deferred`
    std::mutex batch_mutex;
    std::condition_variable batch_compressed;
    std::deque<deferred_batch*> unclaimed; // sealed and not yet taken by anyone, oldest first
    // Declared after the batches: their jobs end before the data goes.
    std::vector<std::unique_ptr<background_worker>> workers;

    ~impl() {
        std::lock_guard lock(batch_mutex);
        unclaimed.clear(); // the workers stop after the batch in hand
    }

    // `options` with its compression chosen (an adaptive one sampled once, here).
    static member_options chosen(const member_options& options, std::span<const std::span<const std::byte>> pieces) {
        member_options out = options;
        out.compression.method = choose_method(options.compression, pieces);
        out.compression.adaptive = false;
        return out;
    }
    // Whether add_owned and add_copied defer a member, its compression chosen, rather than write
    // it now: deflate, or zstd below the size its own workers pay from, with threads to spare
    // (and one of them idle, for a member worth a batch of its own: else compressing it right
    // away needs no copy).
    bool defers(std::uint64_t size, const member_options& options) {
        if (options.threads <= 1) return false;
        const compression_method method = options.compression.method;
        const bool worth_it = method == compression_method::deflate ||
                              (method == compression_method::zstd && size < zstd_threading_threshold);
        return worth_it && (size < deferred_batch_size || idle_worker(options.threads));
    }
    void defer(std::string_view name, std::vector<std::string> owned,
               std::span<const std::span<const std::byte>> copied, std::uint64_t size, const member_options& options);

    static void compress_batch(deferred_batch& batch) {
        for (deferred_member& m : batch.members) {
            std::vector<std::span<const std::byte>> in = spans_of(m.owned);
            if (in.empty()) in.emplace_back(batch.copied.data() + m.copied_at, m.copied_size);
            m.crc32 = crc32_of(in);
            compress(m.options.compression, in, batch.scratch, 1);
            std::vector<std::string>().swap(m.owned); // the uncompressed bytes are no longer needed
            m.compressed_at = batch.compressed.size();
            m.compressed_size = batch.scratch.size();
            if (batch.members.size() == 1)
                batch.compressed.swap(batch.scratch);
            else
                append(batch.compressed, batch.scratch);
        }
    }
    // Compresses the oldest batch nobody has taken; false when there is none. Workers and the
    // caller both call it.
    bool compress_next() {
        deferred_batch* batch = nullptr;
        {
            std::lock_guard lock(batch_mutex);
            if (unclaimed.empty()) return false;
            batch = unclaimed.front();
            unclaimed.pop_front();
        }
        try {
            compress_batch(*batch);
        } catch (...) {
            batch->failure = std::current_exception();
        }
        {
            std::lock_guard lock(batch_mutex);
            batch->done = true;
        }
        batch_compressed.notify_all();
        return true;
    }
    // A worker that has no batch to compress: an idle one, or a new one up to threads - 1.
    background_worker* idle_worker(unsigned threads) {
        for (const auto& w : workers)
            if (!w->busy()) return w.get();
        if (workers.size() + 1 >= threads) return nullptr;
        return workers.emplace_back(std::make_unique<background_worker>()).get();
    }
    // Hands `batch` over: idle workers take batches, oldest first, until none is left. The
    // caller takes one too when two wait, so that a worker finishing finds the next one ready
    // while the caller gathers more.
    void seal(deferred_batch& batch, unsigned threads) {
        batch.sealed = true;
        std::size_t waiting = 0;
        {
            std::lock_guard lock(batch_mutex);
            unclaimed.push_back(&batch);
            waiting = unclaimed.size();
        }
        if (background_worker* w = idle_worker(threads)) {
            w->run([this] {
                while (compress_next()) {}
            });
            return;
        }
        if (waiting >= 2) compress_next();
    }

    // Writes the deferred batches from the oldest on, as far as they are compressed; with `all`,
    // every one (the caller compressing those nobody has taken). Every call that writes or looks
    // at the file's end settles them first, so members reach the file in the order they were
    // added.
    void write_deferred(bool all) {
        if (deferred.empty()) return; // nothing queued (`unclaimed` points into `deferred`)
        if (all) {
            if (!deferred.back()->sealed) seal(*deferred.back(), 1);
            while (compress_next()) {}
        }
        while (!deferred.empty()) {
            deferred_batch& batch = *deferred.front();
            if (!batch.sealed) return; // still gathering
            {
                std::unique_lock lock(batch_mutex);
                if (!all && !batch.done) return;
                batch_compressed.wait(lock, [&] { return batch.done; });
            }
            if (batch.failure) {
                status = state::failed; // the batch holds members of earlier adds
                std::rethrow_exception(batch.failure);
            }
            for (deferred_member& m : batch.members) {
                member_record record = members[m.index];
                record.crc32 = m.crc32;
                record.compressed_size = m.compressed_size;
                const std::span<const std::byte> data(batch.compressed.data() + m.compressed_at, m.compressed_size);
                write_member(std::move(record), m.options, std::span(&data, 1), {}, m.index);
            }
            deferred_bytes -= batch.bytes;
            recycle(std::move(deferred.front()));
            deferred.erase(deferred.begin());
        }
    }
    // Written batches whose buffers the next ones reuse.
    std::vector<std::unique_ptr<deferred_batch>> spare_batches;
    void recycle(std::unique_ptr<deferred_batch> batch) {
        constexpr std::size_t kept_capacity = 4 * deferred_batch_size; // a large member's buffers go
        if (spare_batches.size() >= 4 || batch->copied.capacity() > kept_capacity ||
            batch->compressed.capacity() > kept_capacity || batch->scratch.capacity() > kept_capacity)
            return;
        batch->members.clear();
        batch->copied.clear();
        batch->compressed.clear();
        batch->bytes = 0;
        batch->sealed = batch->done = false;
        batch->failure = nullptr;
        spare_batches.push_back(std::move(batch));
    }
    deferred_batch& new_batch() {
        if (spare_batches.empty()) return *deferred.emplace_back(std::make_unique<deferred_batch>());
        deferred.push_back(std::move(spare_batches.back()));
        spare_batches.pop_back();
        return *deferred.back();
    }
    void settle() { write_deferred(true); }

    void put(std::span<const std::byte> bytes) {
        pending.insert(pending.end(), bytes.begin(), bytes.end());
        position += bytes.size();
        if (pending.size() >= buffer_flush_threshold) hand_over();
    }

    // Headers are written straight into the buffer, between these two calls, as put() takes bytes.
    std::size_t fields_start = 0;
    void fields_begin() noexcept { fields_start = pending.size(); }
    void fields_end() {
        position += pending.size() - fields_start;
        if (pending.size() >= buffer_flush_threshold) hand_over();
    }

    void put_data(std::span<const std::byte> bytes) {
        if (bytes.size() < direct_write_threshold) return put(bytes);
        flush();
        write_all(file, bytes, pacing());
        position += bytes.size();
    }

    // Small stored members put in the buffer with a CRC of 0, which the buffer's flush computes
    // and writes into their local header (write_buffered): where in the buffer, for which member.
    struct buffered_crc {
        std::size_t member = 0; // in `members`
        std::size_t field_at = 0;
        std::size_t data_at = 0;
        std::size_t size = 0;
        std::uint32_t crc32 = 0;
    };
    std::vector<buffered_crc> pending_crcs;
    static void fill_crcs(std::vector<std::byte>& buffer, std::vector<buffered_crc>& crcs) {
        for (buffered_crc& c : crcs) {
            c.crc32 = crc32(0, std::span<const std::byte>(buffer).subspan(c.data_at, c.size));
            std::byte* field = buffer.data() + c.field_at;
            for (int i = 0; i < 4; ++i) field[i] = static_cast<std::byte>(c.crc32 >> (8 * i));
        }
    }
    void record_crcs(const std::vector<buffered_crc>& crcs) {
        for (const buffered_crc& c : crcs) members[c.member].crc32 = c.crc32;
    }
    // With threads to spare (see write_buffered), a full buffer is checksummed and written by a
    // worker while the caller fills the other one: for 10,000 small arrays, those CRCs and
    // writes were a quarter of the caller's time.
    bool flush_behind = false;
    std::vector<std::byte> flushing = reserved_buffer(); // the other buffer
    std::vector<buffered_crc> flushing_crcs;
    bool flush_in_flight = false;
    std::unique_ptr<background_worker> flusher; // declared after what its job uses

    // Waits for the buffer being written behind, if any.
    void wait_flushing() {
        if (!flush_in_flight) return;
        flush_in_flight = false;
        try {
            flusher->wait();
        } catch (...) {
            status = state::failed; // callers name the file, as for a write of their own
            throw;
        }
        record_crcs(flushing_crcs);
        flushing_crcs.clear();
    }
    // Writes the full buffer: behind the caller when it may, else now.
    void hand_over() {
        if (!flush_behind) return flush();
        wait_flushing();
        pending.swap(flushing);
        pending_crcs.swap(flushing_crcs);
        pending.clear();
        pending_crcs.clear();
        if (!flusher) flusher = std::make_unique<background_worker>();
        flush_in_flight = true;
        flusher->run([this] {
            fill_crcs(flushing, flushing_crcs);
            write_all(file, flushing, pacing());
        });
    }
    // Writes everything put so far, and records every CRC.
    void flush() {
        wait_flushing();
        if (pending.empty()) return;
        fill_crcs(pending, pending_crcs);
        write_all(file, pending, pacing());
        record_crcs(pending_crcs);
        pending.clear();
        pending_crcs.clear();
    }

    // Overwrites bytes already put, wherever they are now: in the buffer or in the file.
    void patch(std::span<const std::byte> bytes, std::uint64_t offset) {
        const std::uint64_t buffered_from = position - pending.size();
        if (offset >= buffered_from) {
            std::copy(bytes.begin(), bytes.end(),
                      pending.begin() + static_cast<std::ptrdiff_t>(offset - buffered_from));
        } else {
            wait_flushing();
            pwrite_all(file, bytes, offset);
        }
    }

    // Data known to be all zeros leaves a hole in the file instead (a sparse file): it reads
    // back as zeros and takes no disk space.
    void put_or_skip(std::span<const std::byte> bytes) {
        const bool zeros = bytes.size() >= direct_write_threshold && bytes[0] == std::byte{0} &&
                           std::memcmp(bytes.data(), bytes.data() + 1, bytes.size() - 1) == 0;
        if (!zeros || in_place) return put_data(bytes); // in place, a hole would keep the old bytes
        flush();
        skip_bytes(file, bytes.size(), pacing());
        position += bytes.size();
    }

    using chunk_producer = zip_writer::chunk_producer;
    void check_new_member(std::string_view name, const member_options& options) const;
    void put_local_header(member_record& m, const member_options& options);
    void patch_crc(const member_record& m);
    void patch_zip64_sizes(const member_record& m);
    void write_member(member_record m, const member_options& options, std::span<const std::span<const std::byte>> data,
                      const std::function<std::uint32_t()>& late_crc, std::optional<std::size_t> place = {});
    bool write_buffered(member_record& m, const member_options& options,
                        std::span<const std::span<const std::byte>> data);
    void add_stream(std::string_view name, std::span<const std::span<const std::byte>> known, std::uint64_t size,
                    const chunk_producer& produce, const member_options& options);

    // A failed write leaves the destination as it was; the message names the file being saved,
    // not only its temporary.
    [[noreturn]] void fail_save(const io_error& e) {
        status = state::failed;
        throw io_error(e.reason() + " (while saving " + destination.string() + ")", e.object_path(), e.member());
    }

    void check_in_memory_and_committed() const;

    void check_usable(std::string_view operation) const {
        if (status == state::committed)
            throw usage_error("zip writer: " + std::string(operation) + " after commit() of " + destination.string());
        if (status == state::failed)
            throw usage_error("zip writer: " + std::string(operation) + " after an earlier write to " +
                              destination.string() + " failed; the archive cannot be completed");
    }
};

zip_writer::zip_writer(fs::path destination) : impl_(std::make_unique<impl>()) {
    impl_->destination = std::move(destination);
    impl_->file = make_temp_file_beside(impl_->destination);
    impl_->temp_path = impl_->file.path();
    impl_->pacer.emplace();
}

zip_writer::zip_writer(in_memory_t, std::string name) : impl_(std::make_unique<impl>()) {
    impl_->destination = name;
    impl_->file = make_memory_file(name);
}

zip_writer::zip_writer(in_place_t, file_handle file, std::uint64_t start, std::span<const zip_entry> kept)
    : impl_(std::make_unique<impl>()) {
    impl& w = *impl_;
    w.destination = file.path();
    w.file = std::move(file);
    w.in_place = true;
    w.position = start;
    w.pacer.emplace(start);
    seek_to(w.file, start);
    for (const zip_entry& e : kept) w.push_member(record_of(e));
}

std::optional<zip_entry> zip_writer::forget(std::string_view name) {
    impl& w = *impl_;
    w.check_usable("forget()");
    w.settle();
    try {
        w.flush(); // every CRC recorded
    } catch (const io_error& e) {
        w.fail_save(e);
    }
    auto it = std::find_if(w.members.begin(), w.members.end(), [&](const member_record& m) { return m.name == name; });
    if (it == w.members.end()) return std::nullopt;
    zip_entry e;
    e.name = it->name;
    e.method = static_cast<compression_method>(it->method);
    e.version_needed = it->version_needed;
    e.flags = it->flags;
    e.dos_time = it->stamp.time;
    e.dos_date = it->stamp.date;
    e.external_attributes = it->external_attributes;
    e.crc32 = it->crc32;
    e.compressed_size = it->compressed_size;
    e.uncompressed_size = it->uncompressed_size;
    e.local_header_offset = it->local_header_offset;
    w.members.erase(it);
    w.reindex_names(); // the later members moved
    return e;
}

void zip_writer::restore(const zip_entry& entry) {
    impl& w = *impl_;
    w.check_usable("restore()");
    w.settle();
    if (w.has_member(entry.name))
        throw usage_error("duplicate member name '" + entry.name + "' in " + w.destination.string());
    w.push_member(record_of(entry));
}

zip_writer::~zip_writer() {
    if (!impl_) return;
    // A buffer being written behind ends before the file closes (its failure is dropped).
    impl_->flusher.reset();
    // Else a temporary: closed, ignoring errors, and removed.
    if (impl_->status == impl::state::committed || impl_->temp_path.empty()) return;
    impl_->file = file_handle();
    std::error_code ignored;
    fs::remove(impl_->temp_path, ignored);
}

void zip_writer::add(std::string_view name, std::span<const std::byte> data, const member_options& options) {
    add(name, std::span<const std::span<const std::byte>>(&data, 1), options);
}

void zip_writer::impl::check_new_member(std::string_view name, const member_options& options) const {
    check_usable("add()");
    // Built only for a message: a string per member was a cost of saving many small arrays.
    auto quoted = [&] {
        std::string q = "'";
        q += name;
        q += '\''; // appended in steps: GCC 12 warns falsely (-Wrestrict) about "'" + s
        return q;
    };
    if (name.empty()) throw usage_error("zip member names cannot be empty (" + destination.string() + ")");
    if (name.size() > zf::max16) throw usage_error("zip member name " + quoted() + " is longer than 65535 bytes");
    if (name.find('\0') != std::string_view::npos)
        throw usage_error("zip member name " + quoted() + " contains a NUL byte");
    if (has_member(name)) throw usage_error("duplicate member name " + quoted() + " in " + destination.string());
    if (options.align > max_align || (options.align > 1 && !std::has_single_bit(options.align)))
        throw usage_error("alignment " + std::to_string(options.align) + " of member " + quoted() +
                          " is not a power of two up to " + std::to_string(max_align));
}

namespace {
// The extra fields of a local header written at `offset`.
struct local_extras {
    bool zip64 = false;         // a ZIP64 field holding both sizes
    std::size_t align_size = 0; // the alignment field, padding included; 0 for none
    std::uint64_t data_start = 0;
};

local_extras local_extras_of(std::uint64_t offset, std::size_t name_size, std::uint64_t uncompressed_size,
                             std::uint64_t compressed_size, bool stored, const member_options& options) {
    local_extras x;
    x.zip64 = options.force_zip64 || uncompressed_size >= zf::max32 || compressed_size >= zf::max32;
    x.data_start = offset + zf::local_header_size + name_size + (x.zip64 ? zf::zip64_local_extra_size : 0);
    if (stored && options.align > 1) {
        const std::uint64_t unpadded = x.data_start + zf::align_extra_min_size;
        x.align_size = zf::align_extra_min_size +
                       static_cast<std::size_t>((options.align - unpadded % options.align) % options.align);
        x.data_start += x.align_size;
    }
    return x;
}
} // namespace

std::uint64_t zip_writer::next_data_offset(std::string_view name, std::uint64_t size,
                                           const member_options& options) const {
    impl_->settle();
    return local_extras_of(impl_->position, name.size(), size, size, true, options).data_start;
}

// Puts the local header of `m` (whose name, method, CRC and sizes are set), and records where it
// starts. With ZIP64 forced, its extra field always holds both sizes, so that a streamed
// member's sizes can be patched in afterwards.
void zip_writer::impl::put_local_header(member_record& m, const member_options& options) {
    const bool stored = m.method == static_cast<std::uint16_t>(compression_method::store);
    m.local_header_offset = position;
    const local_extras extras =
        local_extras_of(position, m.name.size(), m.uncompressed_size, m.compressed_size, stored, options);
    const bool zip64_local = extras.zip64;
    const bool zip64_central =
        m.uncompressed_size >= zf::max32 || m.compressed_size >= zf::max32 || m.local_header_offset >= zf::max32;
    m.version_needed = m.method == static_cast<std::uint16_t>(compression_method::zstd) ? zf::version_zstd
                       : (zip64_local || zip64_central)                                 ? zf::version_zip64
                                                                                        : zf::version_default;

    // A local ZIP64 field always holds both sizes (APPNOTE 4.5.3), the header fields then say 0xFFFFFFFF.
    const std::size_t zip64_extra_size = zip64_local ? zf::zip64_local_extra_size : 0;
    const std::size_t align_extra_size = extras.align_size;

    // Written straight into the buffer: a header of its own cost an allocation per member.
    fields_begin();
    zf::field_writer f(pending);
    f.u32(zf::local_header_signature);
    f.u16(m.version_needed);
    f.u16(zf::flag_utf8_name);
    f.u16(m.method);
    f.u16(stamp.time);
    f.u16(stamp.date);
    f.u32(m.crc32);
    f.u32(zip64_local ? zf::max32 : static_cast<std::uint32_t>(m.compressed_size));
    f.u32(zip64_local ? zf::max32 : static_cast<std::uint32_t>(m.uncompressed_size));
    f.u16(static_cast<std::uint16_t>(m.name.size()));
    f.u16(static_cast<std::uint16_t>(zip64_extra_size + align_extra_size));
    f.text(m.name);
    if (zip64_local) {
        f.u16(zf::zip64_extra_id);
        f.u16(16);
        f.u64(m.uncompressed_size);
        f.u64(m.compressed_size);
    }
    if (align_extra_size > 0) {
        f.u16(zf::align_extra_id);
        f.u16(static_cast<std::uint16_t>(align_extra_size - 4));
        f.u16(static_cast<std::uint16_t>(options.align));
        f.zeros(align_extra_size - zf::align_extra_min_size);
    }
    fields_end();
}

void zip_writer::impl::patch_crc(const member_record& m) {
    std::vector<std::byte> field;
    zf::field_writer(field).u32(m.crc32);
    patch(field, m.local_header_offset + zf::local_header_crc_offset);
}

void zip_writer::impl::patch_zip64_sizes(const member_record& m) {
    std::vector<std::byte> fields;
    zf::field_writer f(fields);
    f.u64(m.uncompressed_size);
    f.u64(m.compressed_size);
    patch(fields, m.local_header_offset + zf::local_header_size + m.name.size() + 4);
}

void zip_writer::add(std::string_view name, std::span<const std::span<const std::byte>> pieces,
                     const member_options& options) {
    impl& w = *impl_;
    // A member still compressing on the writer's thread is settled only when this one is about
    // to be written: checksumming and compressing this one meanwhile keeps both threads busy
    // (a save's tree and meta, its last two members, used to wait for each other).
    w.check_new_member(name, options);

    const compression_method method = choose_method(options.compression, pieces);
    const std::uint64_t uncompressed_size = total_size(pieces);
    if (method == compression_method::zstd && uncompressed_size >= zstd_threading_threshold) {
        // A large zstd member goes to the file as it compresses, on zstd's workers: no
        // compressed copy of it is ever held. Smaller ones are compressed first, as deflate
        // is: their local header then has their sizes, as a deferred member's does.
        member_options streamed = options;
        streamed.compression.method = method;
        w.settle();
        w.add_stream(name, pieces, 0, {}, streamed);
        return;
    }
    const bool stored = method == compression_method::store;
    member_record m = w.record_of_new(name, method, uncompressed_size);
    if (options.threads > 1) w.flush_behind = true;
    if (stored) {
        w.settle();
        if (w.write_buffered(m, options, pieces)) return;
    }
    // The checksum runs on a thread of its own beside the compression, or beside the writing of
    // a large stored member (whose header then gets its CRC afterwards).
    std::uint32_t crc = 0;
    std::jthread crc_thread;
    if (options.threads > 1 && uncompressed_size >= crc_thread_threshold)
        crc_thread = std::jthread([&crc, pieces] { crc = crc32_of(pieces); });
    else
        crc = crc32_of(pieces);
    // Compress first: the local header then carries the final sizes, so no data descriptor.
    if (!stored) {
        compression c = options.compression;
        c.method = method;
        compress(c, pieces, w.compressed, options.threads);
    }
    const bool crc_pending = crc_thread.joinable() && stored;
    if (!crc_pending && crc_thread.joinable()) crc_thread.join();

    m.crc32 = crc_pending ? 0 : crc; // not read while its thread may write it: late_crc gives it
    if (!stored) m.compressed_size = w.compressed.size();
    std::span<const std::byte> compressed(w.compressed);
    w.settle();
    w.write_member(std::move(m), options, stored ? pieces : std::span(&compressed, 1),
                   crc_pending ? std::function<std::uint32_t()>([&] {
                       crc_thread.join();
                       return crc;
                   })
                               : std::function<std::uint32_t()>());
}

// Puts a small stored member in the buffer whole, its CRC left to the buffer's flush, when the
// buffer is flushed behind the caller; false (nothing done) otherwise.
bool zip_writer::impl::write_buffered(member_record& m, const member_options& options,
                                      std::span<const std::span<const std::byte>> data) {
    if (!flush_behind) return false;
    if (std::any_of(data.begin(), data.end(), [](auto piece) { return piece.size() >= direct_write_threshold; }))
        return false;
    // Whole in one buffer: its CRC field and its data are checksummed there together. Handing
    // the buffer over leaves `position`, and so the header's size, as they are.
    const local_extras x =
        local_extras_of(position, m.name.size(), m.uncompressed_size, m.compressed_size, true, options);
    const std::uint64_t whole = x.data_start - position + m.uncompressed_size;
    if (whole >= buffer_flush_threshold) return false;
    buffered_crc c;
    try {
        if (pending.size() + whole >= buffer_flush_threshold) hand_over();
        c.field_at = pending.size() + zf::local_header_crc_offset;
        m.crc32 = 0; // until the flush
        put_local_header(m, options);
        c.data_at = pending.size();
        for (auto piece : data) put(piece);
    } catch (const io_error& e) {
        fail_save(e);
    } catch (...) {
        status = state::failed;
        throw;
    }
    c.size = static_cast<std::size_t>(m.uncompressed_size);
    push_member(std::move(m));
    c.member = members.size() - 1;
    pending_crcs.push_back(c);
    return true;
}

// Writes a member whose record is complete (but for its CRC when `late_crc` gives it), and
// whose bytes as they go in the file are `data`. A deferred member's record takes its `place`.
void zip_writer::impl::write_member(member_record m, const member_options& options,
                                    std::span<const std::span<const std::byte>> data,
                                    const std::function<std::uint32_t()>& late_crc, std::optional<std::size_t> place) {
    // A failure past this point leaves a partial member in the file: the writer is unusable.
    try {
        put_local_header(m, options);
        for (auto piece : data) put_data(piece);
        if (late_crc) {
            m.crc32 = late_crc();
            patch_crc(m);
        }
    } catch (const io_error& e) {
        fail_save(e);
    } catch (...) {
        status = state::failed;
        throw;
    }
    if (place)
        members[*place] = std::move(m);
    else
        push_member(std::move(m));
}

void zip_writer::add_owned(std::string_view name, std::string data, const member_options& options) {
    std::vector<std::string> pieces;
    pieces.push_back(std::move(data));
    add_owned(name, std::move(pieces), options);
}

void zip_writer::add_owned(std::string_view name, std::vector<std::string> data, const member_options& options) {
    impl& w = *impl_;
    const std::vector<std::span<const std::byte>> pieces = spans_of(data);
    const std::uint64_t size = total_size(pieces);
    const member_options chosen = impl::chosen(options, pieces);
    if (!w.defers(size, chosen)) return add(name, pieces, chosen);
    w.check_new_member(name, chosen);
    w.defer(name, std::move(data), {}, size, chosen);
}

void zip_writer::add_copied(std::string_view name, std::span<const std::span<const std::byte>> pieces,
                            const member_options& options) {
    impl& w = *impl_;
    const std::uint64_t size = total_size(pieces);
    const member_options chosen = impl::chosen(options, pieces);
    if (size > copied_member_limit || !w.defers(size, chosen)) return add(name, pieces, chosen);
    w.check_new_member(name, chosen);
    w.defer(name, {}, pieces, size, chosen);
}

// Queues a member checked to be new, its `owned` pieces or a copy of `copied`: small ones join
// the batch gathering members, larger ones get a batch of their own.
void zip_writer::impl::defer(std::string_view name, std::vector<std::string> owned,
                             std::span<const std::span<const std::byte>> copied, std::uint64_t size,
                             const member_options& options) {
    // Checked here, where a mistake is reported at this member's add and not at the next call.
    checked_level(options.compression);
    if (!deferred.empty() && deferred_bytes + size > deferred_budget) settle();
    push_member(record_of_new(name, options.compression.method, size)); // its place: names stay unique
    const bool small = size < deferred_batch_size;
    deferred_batch* gathering = !deferred.empty() && !deferred.back()->sealed ? deferred.back().get() : nullptr;
    if (gathering && !small) {
        seal(*gathering, options.threads);
        gathering = nullptr;
    }
    deferred_batch& batch = gathering ? *gathering : new_batch();
    deferred_member& m = batch.members.emplace_back();
    m.index = members.size() - 1;
    m.options = options;
    m.owned = std::move(owned);
    // Joined: deflate would join the pieces anyway, and zstd takes one piece from where it is.
    m.copied_at = batch.copied.size();
    for (auto piece : copied) append(batch.copied, piece);
    m.copied_size = batch.copied.size() - m.copied_at;
    batch.bytes += size;
    deferred_bytes += size;
    if (batch.bytes >= deferred_batch_size) seal(batch, options.threads);
    write_deferred(false);
}

void zip_writer::add_streamed(std::string_view name, std::span<const std::byte> prefix, std::uint64_t size,
                              const chunk_producer& produce, const member_options& options) {
    impl_->settle();
    impl_->check_new_member(name, options);
    const compression_method method = options.compression.method;
    if (method != compression_method::store && method != compression_method::zstd)
        throw usage_error("member '" + std::string(name) +
                          "' is written in chunks, which only store and zstd can "
                          "compress as they go (deflate needs all the data at once)");
    impl_->add_stream(name, std::span(&prefix, 1), size, produce, options);
}

// A member of `known` pieces followed by `size` bytes from `produce`, stored or compressed with
// zstd as it is written; its CRC and compressed size are patched into the local header after.
void zip_writer::impl::add_stream(std::string_view name, std::span<const std::span<const std::byte>> known,
                                  std::uint64_t size, const chunk_producer& produce, const member_options& options) {
    member_options streamed = options;
    streamed.force_zip64 = true; // so that the sizes can be patched in
    const bool stored = options.compression.method == compression_method::store;
    member_record m = record_of_new(name, options.compression.method, size + total_size(known));

    try {
        put_local_header(m, streamed);
        const std::uint64_t data_start = position;
        std::unique_ptr<stream_compressor> compressor;
        if (!stored)
            compressor = std::make_unique<stream_compressor>(options.compression, options.threads, m.uncompressed_size);
        auto emit = [&](std::span<const std::byte> bytes) { put_data(bytes); };
        std::uint32_t crc = 0;
        for (auto piece : known) {
            if (!compressor) {
                crc = crc32(crc, piece);
                put_data(piece);
                continue;
            }
            // In slices, each checksummed once handed over: with zstd's workers, the checksum
            // of one slice runs while they compress it, not before they start.
            for (std::size_t at = 0; at < piece.size(); at += checksum_slice_size) {
                const auto slice = piece.subspan(at, std::min(checksum_slice_size, piece.size() - at));
                compressor->add(slice, emit);
                crc = crc32(crc, slice);
            }
        }
        std::vector<std::byte> chunk(static_cast<std::size_t>(std::min<std::uint64_t>(size, stream_chunk_size)));
        for (std::uint64_t offset = 0; offset < size;) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), size - offset));
            std::span<std::byte> piece(chunk.data(), n);
            produce(offset, piece);
            crc = crc32(crc, piece);
            if (compressor)
                compressor->add(piece, emit);
            else
                put_or_skip(piece);
            offset += n;
        }
        if (compressor) compressor->finish(emit);
        m.crc32 = crc;
        m.compressed_size = position - data_start;
        patch_crc(m);
        patch_zip64_sizes(m);
    } catch (const io_error& e) {
        fail_save(e);
    } catch (...) {
        status = state::failed;
        throw;
    }
    push_member(std::move(m));
}

void zip_writer::commit() {
    impl& w = *impl_;
    w.check_usable("commit()");
    w.settle();
    try {
        w.flush(); // every CRC recorded
        const std::uint64_t directory_offset = w.position;
        for (const member_record& m : w.members) {
            w.fields_begin();
            append_central_header(w.pending, m);
            w.fields_end();
        }
        const std::uint64_t directory_size = w.position - directory_offset;
        const std::uint64_t count = w.members.size();

        std::vector<std::byte> end;
        zf::field_writer f(end);
        if (count >= zf::max16 || directory_size >= zf::max32 || directory_offset >= zf::max32) {
            const std::uint64_t zip64_end_offset = w.position;
            f.u32(zf::zip64_end_signature);
            f.u64(zf::zip64_end_size - 12); // the record's size, excluding its first 12 bytes
            f.u16(static_cast<std::uint16_t>(zf::host_unix << 8 | zf::version_zip64));
            f.u16(zf::version_zip64);
            f.u32(0); // this disk
            f.u32(0); // disk of the central directory
            f.u64(count);
            f.u64(count);
            f.u64(directory_size);
            f.u64(directory_offset);
            f.u32(zf::zip64_locator_signature);
            f.u32(0); // disk of the ZIP64 end record
            f.u64(zip64_end_offset);
            f.u32(1); // total disks
        }
        f.u32(zf::end_signature);
        f.u16(0);
        f.u16(0);
        f.u16(static_cast<std::uint16_t>(std::min<std::uint64_t>(count, zf::max16)));
        f.u16(static_cast<std::uint16_t>(std::min<std::uint64_t>(count, zf::max16)));
        f.u32(field32(directory_size));
        f.u32(field32(directory_offset));
        f.u16(0); // comment length
        w.put(end);
        w.flush();
        if (w.in_place) { // an update: the old directory may have reached further
            truncate_file(w.file, w.position);
            fsync_file(w.file);
        }
        if (w.temp_path.empty()) { // in memory or in place: nothing to rename
            w.status = impl::state::committed;
            return;
        }

        fsync_file(w.file);
        // Renamed before it is closed, so that the temporary's lock holds until then: another
        // save's cleanup of stale temporaries must never take it (see make_temp_file_beside).
        rename_file(w.temp_path, w.destination);
        w.file.close();
    } catch (const io_error& e) {
        w.fail_save(e);
    } catch (...) {
        w.status = impl::state::failed;
        throw;
    }
    w.status = impl::state::committed;
    // The rename is durable only once the folder's entry is on disk.
    fs::path folder = w.destination.parent_path();
    fsync_directory(folder.empty() ? fs::path(".") : folder);
}

void zip_writer::impl::check_in_memory_and_committed() const {
    if (status != state::committed || !temp_path.empty() || in_place)
        throw usage_error("zip writer: only a committed archive in memory can be read back (" + destination.string() +
                          ")");
}

void zip_writer::copy_to(const std::function<void(std::span<const std::byte>)>& sink) const {
    const impl& w = *impl_;
    w.check_in_memory_and_committed();
    std::vector<std::byte> piece(static_cast<std::size_t>(std::min<std::uint64_t>(w.position, buffer_flush_threshold)));
    for (std::uint64_t offset = 0; offset < w.position;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), w.position - offset));
        pread_all(w.file, std::span(piece.data(), n), offset);
        sink(std::span<const std::byte>(piece.data(), n));
        offset += n;
    }
}

std::vector<std::byte> zip_writer::contents() const {
    impl_->check_in_memory_and_committed();
    std::vector<std::byte> out(static_cast<std::size_t>(impl_->position));
    pread_all(impl_->file, out, 0);
    return out;
}

std::uint64_t zip_writer::size() const noexcept { return impl_->position; }

const fs::path& zip_writer::destination() const noexcept { return impl_->destination; }

} // namespace zanj::detail
