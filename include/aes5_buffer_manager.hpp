/*
 * aes5_buffer_manager.hpp: a header-only C++ face of aes5_buffer_manager.h for DSP code.
 *
 * C++11 and later; works with -fno-exceptions -fno-rtti; nothing here allocates, throws or
 * includes <iostream>. Every fallible call returns the library's status (aes5_status_t) or a
 * small Result<T> that carries one; aes5::status_text() gives its words.
 *
 *   static aes5_buffer_manager_storage_t storage;          // caller-owned, any contents
 *   aes5::Manager manager;
 *   if (manager.init(storage) != AES5_OK) { ... }
 *   aes5::Result<aes5::Buffer> r = manager.allocate(AES5_BUFFER_TYPE_PRIMARY,
 *                                                   aes5::Format::pcm16(48000, 2, 256));
 *   if (!r) { const char *why = aes5::status_text(r.status()); ... }
 *   aes5::Buffer buffer = r.take();                         // move-only; releases when destroyed
 *   aes5::SampleView<int16_t> pcm = buffer.samples<int16_t>(); // bounds-known, frames x channels
 *   for (size_t i = 0; i < pcm.size(); i++) pcm[i] = 0;
 *
 * Thread/ISR safety is the C API's: a Manager and the Buffers it hands out may be used from
 * any thread or interrupt handler; one Buffer object belongs to one context at a time.
 *
 * Checks. A misuse the types cannot refuse reaches a check instead of undefined behaviour:
 * Buffer::samples<T>() with a sample type the buffer's format does not hold, or on an empty
 * (moved-from, released, never filled) Buffer, and SampleView::at() out of range. A failed
 * check calls the handler set with aes5::set_check_handler(), or by default prints the check
 * and calls abort() on a host, and calls aes5_panic_hook() on a Cortex-M (bare-metal) target.
 * A handler that returns gets the safe fallback: an empty view from samples<T>(), a scratch
 * sample no buffer owns from at(). SampleView::operator[] is not checked, as std::span's is
 * not: index it below size() (an empty view has size() 0). Define AES5_CPP_CHECKS to 0 before
 * including this header to compile the checks out (the fallbacks stay, silently).
 */
#ifndef AES5_BUFFER_MANAGER_HPP
#define AES5_BUFFER_MANAGER_HPP

#include <stddef.h>
#include <stdint.h>

#include "aes5_buffer_manager.h"

#ifndef AES5_CPP_CHECKS
#define AES5_CPP_CHECKS 1
#endif
/* Bare metal (an M-profile Arm core): a failed check ends in the library's panic hook. */
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define AES5_CPP_BARE_METAL 1
#else
#define AES5_CPP_BARE_METAL 0
#include <stdio.h>
#include <stdlib.h>
#endif

namespace aes5 {

/** The text of a status (never NULL). */
inline const char *status_text(aes5_status_t status) noexcept { return aes5_status_string(status); }
/** The name of a manager state ("Ready", ...). */
inline const char *state_name(aes5_manager_state_t state) noexcept { return aes5_state_string(state); }
/** The name of a buffer type ("Primary", ...). */
inline const char *buffer_type_name(aes5_buffer_type_t type) noexcept { return aes5_buffer_type_string(type); }
/** The text of a format problem (AES5_FORMAT_*). */
inline const char *format_problem_text(aes5_format_problem_t problem) noexcept {
    return aes5_format_problem_string(problem);
}

/**
 * A check handler: `what` names the failed check, `file` and `line` the place in this header.
 * It may return (a test's handler does): the call then takes its safe fallback.
 */
typedef void (*CheckHandler)(const char *what, const char *file, int line);

namespace detail {
/* The handler set by set_check_handler (none: the default). Constant-initialised, so no
 * guard or lock is involved. */
inline CheckHandler &check_handler() noexcept {
    static CheckHandler handler = nullptr;
    return handler;
}
} // namespace detail

/** Sets the handler of failed checks (nullptr: the default); returns the previous one. Set it
 *  once at start-up: the setting itself is not synchronised. */
inline CheckHandler set_check_handler(CheckHandler handler) noexcept {
    CheckHandler previous = detail::check_handler();
    detail::check_handler() = handler;
    return previous;
}

/** What a failed check does: the handler, or the default (print and abort() on a host,
 *  aes5_panic_hook() on bare metal). */
inline void check_failed(const char *what, const char *file, int line) noexcept {
    CheckHandler handler = detail::check_handler();
    if (handler != nullptr) {
        handler(what, file, line);
        return;
    }
#if AES5_CPP_BARE_METAL
    (void)what;
    (void)file;
    (void)line;
    aes5_panic_hook();
#else
    fprintf(stderr, "%s:%d: aes5 C++ check failed: %s\n", file, line, what);
    abort();
#endif
}

#if AES5_CPP_CHECKS
/* True when `condition` holds; otherwise the check fails with `what` and this is false. */
#define AES5_CPP_CHECK(condition, what) \
    ((condition) ? true : (::aes5::check_failed((what), __FILE__, __LINE__), false))
#else
#define AES5_CPP_CHECK(condition, what) (condition)
#endif

namespace detail {
/* std::move without <utility> (some embedded C++ libraries lack it). */
template <typename T> struct remove_reference { typedef T type; };
template <typename T> struct remove_reference<T &> { typedef T type; };
template <typename T> struct remove_reference<T &&> { typedef T type; };
template <typename T> typename remove_reference<T>::type &&move(T &&value) noexcept {
    return static_cast<typename remove_reference<T>::type &&>(value);
}
} // namespace detail

/**
 * A value or the status that explains its absence. `T` must be default-constructible and
 * movable; `take()` moves the value out (for move-only values such as Buffer).
 */
template <typename T> class Result {
public:
    /** A success holding `value`. */
    Result(T &&value) noexcept : value_(detail::move(value)), status_(AES5_OK) {}
    /** A failure with `status` (not AES5_OK). */
    static Result failure(aes5_status_t status) noexcept { return Result(Failure(), status); }
    Result(Result &&other) noexcept : value_(detail::move(other.value_)), status_(other.status_) {}
    Result(const Result &) = delete;
    Result &operator=(const Result &) = delete;

    /** True on success. */
    bool ok() const noexcept { return status_ == AES5_OK; }
    explicit operator bool() const noexcept { return ok(); }
    /** AES5_OK, or why there is no value. */
    aes5_status_t status() const noexcept { return status_; }
    /** The value (default-constructed on failure). */
    T &value() noexcept { return value_; }
    const T &value() const noexcept { return value_; }
    /** Moves the value out (an empty one on failure). */
    T take() noexcept { return detail::move(value_); }

private:
    struct Failure {};
    Result(Failure, aes5_status_t status) noexcept : value_(), status_(status) {}
    T value_;
    aes5_status_t status_;
};

/** An audio format built by named constructors (a thin value over aes5_audio_format_t). */
class Format {
public:
    /** 16-bit integer PCM. */
    static Format pcm16(uint32_t rate_hz, uint16_t channels, uint16_t frames) noexcept {
        return Format(rate_hz, channels, 16, frames, AES5_PACKING_DEFAULT, AES5_ENCODING_INTEGER);
    }
    /** 24-bit integer PCM in 32-bit containers (the default for 24 bits). */
    static Format pcm24_in_32(uint32_t rate_hz, uint16_t channels, uint16_t frames) noexcept {
        return Format(rate_hz, channels, 24, frames, AES5_PACKING_DEFAULT, AES5_ENCODING_INTEGER);
    }
    /** 24-bit integer PCM packed into 3 bytes. */
    static Format pcm24_packed(uint32_t rate_hz, uint16_t channels, uint16_t frames) noexcept {
        return Format(rate_hz, channels, 24, frames, AES5_PACKING_PACKED_24, AES5_ENCODING_INTEGER);
    }
    /** 32-bit integer PCM. */
    static Format pcm32(uint32_t rate_hz, uint16_t channels, uint16_t frames) noexcept {
        return Format(rate_hz, channels, 32, frames, AES5_PACKING_DEFAULT, AES5_ENCODING_INTEGER);
    }
    /** IEEE-754 binary32 samples. */
    static Format float32(uint32_t rate_hz, uint16_t channels, uint16_t frames) noexcept {
        return Format(rate_hz, channels, 32, frames, AES5_PACKING_DEFAULT, AES5_ENCODING_FLOAT);
    }
    /** The same format at the AES5 pull-up rate (nominal x 1001/1000). */
    Format pulled_up() const noexcept { return with_pull(AES5_RATE_PULL_UP); }
    /** The same format at the AES5 pull-down rate (nominal x 1000/1001). */
    Format pulled_down() const noexcept { return with_pull(AES5_RATE_PULL_DOWN); }

    /** The C structure. */
    const aes5_audio_format_t &raw() const noexcept { return raw_; }
    /** Why the library refuses this format (AES5_FORMAT_OK if it accepts it). */
    aes5_format_problem_t problem() const noexcept {
        aes5_format_problem_t problem = AES5_FORMAT_OK;
        (void)aes5_audio_format_check(&raw_, &problem);
        return problem;
    }
    /** Bytes one buffer of this format needs (0 when the format is refused). */
    uint32_t bytes() const noexcept {
        uint32_t bytes = 0;
        return aes5_audio_format_bytes(&raw_, &bytes) == AES5_OK ? bytes : 0;
    }

private:
    Format(uint32_t rate_hz, uint16_t channels, uint16_t bits, uint16_t frames, uint8_t packing,
           uint8_t encoding) noexcept
        : raw_() {
        raw_.sample_rate_hz = rate_hz;
        raw_.channel_count = channels;
        raw_.sample_size_bits = bits;
        raw_.frame_size_samples = frames;
        raw_.sample_packing = packing;
        raw_.sample_encoding = encoding;
        raw_.rate_pull = AES5_RATE_PULL_NONE;
    }
    Format with_pull(uint8_t pull) const noexcept {
        Format f(*this);
        f.raw_.rate_pull = pull;
        return f;
    }
    aes5_audio_format_t raw_;
};

/**
 * The samples of a buffer as `Sample` (int16_t, int32_t or float), interleaved, with their
 * count known: `size()` = frames x channels. Empty (size() 0) only after a failed check whose
 * handler returned (see Buffer::samples).
 */
template <typename Sample> class SampleView {
public:
    SampleView() noexcept : data_(nullptr), frames_(0), channels_(0) {}
    SampleView(Sample *data, size_t frames, size_t channels) noexcept
        : data_(data), frames_(frames), channels_(channels) {}

    size_t size() const noexcept { return frames_ * channels_; }
    size_t frames() const noexcept { return frames_; }
    size_t channels() const noexcept { return channels_; }
    bool empty() const noexcept { return size() == 0; }
    Sample *data() const noexcept { return data_; }
    Sample *begin() const noexcept { return data_; }
    Sample *end() const noexcept { return data_ + size(); }
    /** Sample `i` of the interleaved data; `i` < size(). Not checked, as std::span's is not. */
    Sample &operator[](size_t i) const noexcept { return data_[i]; }
    /** The sample of `channel` in `frame`, checked: out of range (or on an empty view) the
     *  check fails, and a handler that returns gets a scratch sample no buffer owns. */
    Sample &at(size_t frame, size_t channel) const noexcept {
        if (!AES5_CPP_CHECK(frame < frames_ && channel < channels_, "SampleView::at() out of range")) {
            static Sample scratch;
            scratch = Sample();
            return scratch;
        }
        return data_[frame * channels_ + channel];
    }

private:
    Sample *data_;
    size_t frames_;
    size_t channels_;
};

namespace detail {
/* Which sample_size_bits / sample_encoding a Sample type reads. */
template <typename Sample> struct SampleLayout;
template <> struct SampleLayout<int16_t> {
    static bool holds(const aes5_audio_buffer_t &b) noexcept {
        return b.sample_size_bits == 16 && b.sample_encoding == AES5_ENCODING_INTEGER;
    }
};
template <> struct SampleLayout<int32_t> {
    static bool holds(const aes5_audio_buffer_t &b) noexcept {
        return (b.sample_size_bits == 32 || (b.sample_size_bits == 24 && b.sample_packing == AES5_PACKING_DEFAULT)) &&
               b.sample_encoding == AES5_ENCODING_INTEGER;
    }
};
template <> struct SampleLayout<float> {
    static bool holds(const aes5_audio_buffer_t &b) noexcept {
        return b.sample_size_bits == 32 && b.sample_encoding == AES5_ENCODING_FLOAT;
    }
};
} // namespace detail

/**
 * A held buffer: move-only, released when destroyed (or by release()). A moved-from Buffer is
 * empty and releases nothing.
 */
class Buffer {
public:
    /** An empty buffer. */
    Buffer() noexcept : manager_(nullptr), buffer_(nullptr) {}
    /** Takes over `buffer`, allocated from `manager`. */
    Buffer(aes5_buffer_manager_t *manager, aes5_audio_buffer_t *buffer) noexcept : manager_(manager), buffer_(buffer) {}
    Buffer(Buffer &&other) noexcept : manager_(other.manager_), buffer_(other.buffer_) {
        other.manager_ = nullptr;
        other.buffer_ = nullptr;
    }
    Buffer &operator=(Buffer &&other) noexcept {
        if (this != &other) {
            (void)release();
            manager_ = other.manager_;
            buffer_ = other.buffer_;
            other.manager_ = nullptr;
            other.buffer_ = nullptr;
        }
        return *this;
    }
    Buffer(const Buffer &) = delete;
    Buffer &operator=(const Buffer &) = delete;
    ~Buffer() { (void)release(); }

    /** Gives the buffer back now; AES5_OK for an empty Buffer. */
    aes5_status_t release() noexcept {
        if (buffer_ == nullptr) return AES5_OK;
        aes5_status_t status = aes5_buffer_manager_release(manager_, buffer_);
        manager_ = nullptr;
        buffer_ = nullptr;
        return status;
    }

    /** True when a buffer is held. */
    explicit operator bool() const noexcept { return buffer_ != nullptr; }
    /** The header (NULL when empty). Callers may write the fields the C header allows. */
    aes5_audio_buffer_t *header() const noexcept { return buffer_; }
    /** The audio area (NULL when empty). */
    uint8_t *data() const noexcept { return buffer_ ? buffer_->data_pointer : nullptr; }
    /** Bytes the audio area holds. */
    size_t capacity_bytes() const noexcept { return buffer_ ? buffer_->buffer_capacity_bytes : 0; }
    /** Bytes of audio in the buffer (the format's size at allocation). */
    size_t size_bytes() const noexcept { return buffer_ ? buffer_->data_size_bytes : 0; }

    /**
     * The samples as `Sample`: int16_t for 16-bit, int32_t for 24-in-32 and 32-bit integers,
     * float for 32-bit float (packed 24-bit has no C++ sample type: use data()). Checked: on
     * an empty Buffer, or for a type the format does not hold, the check fails (see the top of
     * this header), and a handler that returns gets an empty view.
     */
    template <typename Sample> SampleView<Sample> samples() const noexcept {
        if (!AES5_CPP_CHECK(buffer_ != nullptr, "Buffer::samples() on an empty (moved-from or released) Buffer") ||
            !AES5_CPP_CHECK(detail::SampleLayout<Sample>::holds(*buffer_),
                            "Buffer::samples<T>(): the buffer's format does not hold samples of type T"))
            return SampleView<Sample>();
        /* data_pointer is aligned to AES5_DATA_ALIGNMENT (at least 8): valid for any Sample. */
        return SampleView<Sample>(reinterpret_cast<Sample *>(static_cast<void *>(buffer_->data_pointer)),
                                  buffer_->frame_size_samples, buffer_->channel_count);
    }

private:
    friend class Manager;
    /* Empties the handle without releasing (the buffer went to a queue). */
    void forget() noexcept {
        manager_ = nullptr;
        buffer_ = nullptr;
    }
    aes5_buffer_manager_t *manager_;
    aes5_audio_buffer_t *buffer_;
};

/**
 * A manager over caller-owned storage. Move-only; shuts the manager down when destroyed (a
 * shutdown with buffers still held completes at their last release).
 */
class Manager {
public:
    Manager() noexcept : manager_(nullptr) {}
    Manager(Manager &&other) noexcept : manager_(other.manager_) { other.manager_ = nullptr; }
    Manager &operator=(Manager &&other) noexcept {
        if (this != &other) {
            (void)shutdown();
            manager_ = other.manager_;
            other.manager_ = nullptr;
        }
        return *this;
    }
    Manager(const Manager &) = delete;
    Manager &operator=(const Manager &) = delete;
    ~Manager() { (void)shutdown(); }

    /** Starts a manager in `storage` (any contents but a live manager), with `config` or the
     *  defaults. */
    aes5_status_t init(aes5_buffer_manager_storage_t &storage, const aes5_runtime_config_t *config = nullptr) noexcept {
        if (manager_ != nullptr) return AES5_ERR_ALREADY_INITIALIZED;
        aes5_buffer_manager_t *handle = nullptr;
        aes5_status_t status = AES5_BUFFER_MANAGER_INIT(&storage, config, &handle);
        if (status == AES5_OK) manager_ = handle;
        return status;
    }
    /** Shuts down now, or at the last release (AES5_ERR_BUFFERS_OUTSTANDING); AES5_OK when
     *  there is no manager. */
    aes5_status_t shutdown() noexcept {
        if (manager_ == nullptr) return AES5_OK;
        aes5_status_t status = aes5_buffer_manager_shutdown(manager_);
        manager_ = nullptr;
        return status;
    }

    /** True once init succeeded. */
    explicit operator bool() const noexcept { return manager_ != nullptr; }
    /** The C handle, for calls this class does not wrap. */
    aes5_buffer_manager_t *handle() const noexcept { return manager_; }

    /** Takes a buffer of `type` for `format`. */
    Result<Buffer> allocate(aes5_buffer_type_t type, const Format &format) const noexcept {
        aes5_audio_buffer_t *buffer = nullptr;
        aes5_status_t status = aes5_buffer_manager_allocate(manager_, type, &format.raw(), &buffer);
        if (status != AES5_OK) return Result<Buffer>::failure(status);
        return Result<Buffer>(Buffer(manager_, buffer));
    }
    /**
     * Hands `buffer` to hand-off queue `queue` (0 .. AES5_QUEUE_COUNT - 1). On AES5_OK the
     * queue owns the buffer and `buffer` is empty; refused, `buffer` still holds it (a
     * damaged one is quarantined and releases nothing). O(1), lock-free, ISR-safe.
     */
    aes5_status_t enqueue(uint32_t queue, Buffer &&buffer) const noexcept {
        aes5_status_t status = aes5_buffer_manager_enqueue(manager_, queue, buffer.header());
        if (status == AES5_OK) buffer.forget();
        return status;
    }
    /** Takes the oldest buffer of hand-off queue `queue` (AES5_ERR_QUEUE_EMPTY when there is
     *  none); it is released when the Buffer is destroyed. O(1), lock-free, ISR-safe. */
    Result<Buffer> dequeue(uint32_t queue) const noexcept {
        aes5_audio_buffer_t *buffer = nullptr;
        aes5_status_t status = aes5_buffer_manager_dequeue(manager_, queue, &buffer);
        if (status != AES5_OK) return Result<Buffer>::failure(status);
        return Result<Buffer>(Buffer(manager_, buffer));
    }
    /** Fills `out` with the statistics of hand-off queue `queue`. */
    aes5_status_t queue_statistics(uint32_t queue, aes5_queue_statistics_t &out) const noexcept {
        return aes5_buffer_manager_get_queue_statistics(manager_, queue, &out);
    }
    /** The held-buffer finder: fills up to `capacity` entries and sets `count` to the number of
     *  buffers that are not free. */
    aes5_status_t held_buffers(aes5_held_buffer_t *entries, uint32_t capacity, uint32_t &count) const noexcept {
        return aes5_buffer_manager_get_held_buffers(manager_, entries, capacity, &count);
    }
    /** The integrity sweep: every guard word and free header checked; damaged free buffers
     *  quarantined, damaged held ones reported in `out`. */
    aes5_status_t check_integrity(aes5_integrity_report_t &out) const noexcept {
        return aes5_buffer_manager_check_integrity(manager_, &out);
    }
    /** Why the last refused call was refused: status, exact reason (AES5_REFUSAL_*) and the
     *  text log_detail received; `number` 0 when nothing was refused since init. */
    aes5_status_t last_refusal(aes5_last_refusal_t &out) const noexcept {
        return aes5_buffer_manager_get_last_refusal(manager_, &out);
    }
    /** Checks a held buffer (changes nothing). */
    aes5_status_t validate(const Buffer &buffer) const noexcept {
        return aes5_buffer_manager_validate_buffer(manager_, buffer.header());
    }
    /** Why allocate(type, format) would refuse the format (AES5_FORMAT_OK if it would not). */
    Result<aes5_format_problem_t> check_format(aes5_buffer_type_t type, const Format &format) const noexcept {
        aes5_format_problem_t problem = AES5_FORMAT_OK;
        aes5_status_t status = aes5_buffer_manager_check_format(manager_, type, &format.raw(), &problem);
        if (status != AES5_OK) return Result<aes5_format_problem_t>::failure(status);
        return Result<aes5_format_problem_t>(detail::move(problem));
    }
    /** The current state. */
    Result<aes5_manager_state_t> state() const noexcept {
        aes5_manager_state_t state = AES5_STATE_UNINITIALIZED;
        aes5_status_t status = aes5_buffer_manager_get_state(manager_, &state);
        if (status != AES5_OK) return Result<aes5_manager_state_t>::failure(status);
        return Result<aes5_manager_state_t>(detail::move(state));
    }
    /** Requests a state change (Error -> Ready recovery, ...). */
    aes5_status_t transition(aes5_manager_state_t state) const noexcept {
        return aes5_buffer_manager_transition_state(manager_, state);
    }
    /** Fills `out` with the statistics. */
    aes5_status_t statistics(aes5_manager_statistics_t &out) const noexcept {
        return aes5_buffer_manager_get_statistics(manager_, &out);
    }
    /** Fills `out` with one type's statistics. */
    aes5_status_t pool_statistics(aes5_buffer_type_t type, aes5_pool_statistics_t &out) const noexcept {
        return aes5_buffer_manager_get_pool_statistics(manager_, type, &out);
    }
    /** Fills `out` with the real-time metrics. */
    aes5_status_t metrics(aes5_realtime_metrics_t &out) const noexcept {
        return aes5_buffer_manager_get_metrics(manager_, &out);
    }
    /** Fills `out` with the performance report over the last `period_ns` (0 = all). */
    aes5_status_t report(uint64_t period_ns, aes5_performance_report_t &out) const noexcept {
        return aes5_buffer_manager_get_performance_report(manager_, period_ns, &out);
    }

private:
    aes5_buffer_manager_t *manager_;
};

} // namespace aes5

#endif /* AES5_BUFFER_MANAGER_HPP */
