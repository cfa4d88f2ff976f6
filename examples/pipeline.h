/*
 * pipeline.h: the examples' audio pipeline, one period at a time, the way a small audio
 * firmware moves audio through the pools:
 *
 *   capture  -> Primary buffer     (int16 stereo, as an ADC/I2S driver delivers it)
 *            -> Conversion buffer  (float32 stereo, the DSP's working format)
 *            -> Scratch buffer     (24-in-32 stereo after a -6 dB gain, for the DAC)
 *
 * Shared by the demo (demo.c) and the JACK client (jack_client.c).
 */
#ifndef AES5_EXAMPLE_PIPELINE_H
#define AES5_EXAMPLE_PIPELINE_H

#include <stdint.h>

#include "aes5_buffer_manager.h"

#define PIPELINE_RATE 48000u
#define PIPELINE_CHANNELS 2u

/* The three formats of a period of `frames` sample frames. */
typedef struct {
    aes5_audio_format_t capture, work, out;
} pipeline_formats_t;

/* Time spent inside the library's calls made by the pipeline, when `enabled` (ns). */
typedef struct {
    int enabled;
    uint64_t library_ns;
} pipeline_timing_t;
extern pipeline_timing_t pipeline_timing;

/* Sample frames in one period: `wanted`, or fewer if the build's buffers are smaller. */
uint16_t pipeline_frames(uint16_t wanted);
pipeline_formats_t pipeline_formats(uint16_t frames);
/* The test signal: 440 Hz on the left, 1 kHz on the right, at -3 dBFS. */
int16_t pipeline_signal(uint64_t sample, unsigned channel);
/* Allocates a Primary buffer and fills it with the signal from `first_sample` on. */
aes5_status_t pipeline_capture(aes5_buffer_manager_t *m, const pipeline_formats_t *f, uint64_t first_sample,
                               uint64_t timestamp_ns, aes5_audio_buffer_t **out);
/* Validates `in`, converts it through a Conversion buffer into a Scratch buffer at -6 dB,
 * releasing both; on failure `*step` names the call that failed. */
aes5_status_t pipeline_process(aes5_buffer_manager_t *m, const pipeline_formats_t *f, aes5_audio_buffer_t *in,
                               aes5_audio_buffer_t **out, const char **step);
/* Checks every output sample against the signal; returns the mismatches. */
uint64_t pipeline_verify(const aes5_audio_buffer_t *out, uint64_t first_sample);
/* A library call of the pipeline's kind, timed into pipeline_timing when it is enabled. */
aes5_status_t pipeline_release(aes5_buffer_manager_t *m, aes5_audio_buffer_t *b);
/* Prints the statistics, real-time metrics, performance report and storage layout. */
void pipeline_print_report(aes5_buffer_manager_t *m, uint64_t trend_interval_ns);

#endif
