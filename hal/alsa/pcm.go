//go:build cgo

package alsa

// The alsa-lib side: one C struct per open PCM, and the few calls that
// open, configure, move frames and recover. One cgo call per frame moved.

/*
#cgo pkg-config: alsa
#include <alsa/asoundlib.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// alsa-lib's own message for the last failure on this thread ("Unknown PCM
// x"), kept for the error instead of printed on stderr.
static __thread char dp_msg[256];
static void dp_errh(const char *file, int line, const char *fn, int err, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dp_msg, sizeof dp_msg, fmt, ap);
	va_end(ap);
}
static void dp_quiet(void) { snd_lib_error_set_handler(dp_errh); }

// Where opening a PCM failed: the SDK's code depends on it.
enum {
	DP_OPEN = 1, DP_ACCESS, DP_FORMAT, DP_CHANNELS, DP_RATE, DP_PERIOD,
	DP_BUFFER, DP_HW, DP_SW, DP_PREPARE, DP_START
};

typedef struct {
	snd_pcm_t *pcm;
	int capture;
	unsigned int rate, channels;
	snd_pcm_uframes_t period, buffer;
	snd_pcm_uframes_t frame;   // the codec's frame at the device's rate (rounded up)
	snd_pcm_uframes_t target;  // playback: the most queued after a write (its latency)
	snd_pcm_uframes_t prefill; // playback: silence queued at start, target - frame
	int card;   // -1: no sound card behind it (file, null plugins)
	int stage;  // DP_*: the step that failed
	int stop;   // set by Close: a transfer in progress returns -ECANCELED
	long xruns, suspends, recoveries;
	short *silence; // prefill frames of silence, interleaved
	char msg[256];  // alsa-lib's message when opening failed
} dp_dev;

static void dp_count(long *c) { __atomic_add_fetch(c, 1, __ATOMIC_RELAXED); }
static long dp_load(long *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }
static void dp_stop(dp_dev *d) { __atomic_store_n(&d->stop, 1, __ATOMIC_RELAXED); }

static int dp_fail(dp_dev *d, int stage, int err) {
	d->stage = stage;
	memcpy(d->msg, dp_msg, sizeof d->msg);
	return err;
}

// dp_open opens name non-blocking as S16_LE interleaved. rate: the rate
// wanted (taken exactly when the device has it, else the nearest); fixed: a
// rate the profile imposes (0: none); channels: 0 = mono if the device has
// it, else its nearest. The period is period_us, the buffer periods of them
// and at least a codec frame (frame samples at rate) and two periods.
static int dp_open(dp_dev *d, const char *name, int capture, unsigned int rate, unsigned int fixed,
		unsigned int channels, unsigned int period_us, unsigned int periods, unsigned int frame) {
	unsigned int codec_rate = rate;
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_info_t *info;
	int err, dir = 0;
	memset(d, 0, sizeof *d);
	dp_msg[0] = 0;
	d->capture = capture;
	err = snd_pcm_open(&d->pcm, name, capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK);
	if (err < 0) { d->pcm = NULL; return dp_fail(d, DP_OPEN, err); }
	snd_pcm_hw_params_alloca(&hw);
	if ((err = snd_pcm_hw_params_any(d->pcm, hw)) < 0) return dp_fail(d, DP_ACCESS, err);
	if ((err = snd_pcm_hw_params_set_access(d->pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0) return dp_fail(d, DP_ACCESS, err);
	if ((err = snd_pcm_hw_params_set_format(d->pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0) return dp_fail(d, DP_FORMAT, err);
	if (channels == 0) {
		channels = 1;
		if (snd_pcm_hw_params_test_channels(d->pcm, hw, 1) < 0 &&
		    (err = snd_pcm_hw_params_set_channels_near(d->pcm, hw, &channels)) < 0) return dp_fail(d, DP_CHANNELS, err);
	}
	if ((err = snd_pcm_hw_params_set_channels(d->pcm, hw, channels)) < 0) return dp_fail(d, DP_CHANNELS, err);
	if (fixed) {
		err = snd_pcm_hw_params_set_rate(d->pcm, hw, fixed, 0);
	} else if (snd_pcm_hw_params_test_rate(d->pcm, hw, rate, 0) == 0) {
		err = snd_pcm_hw_params_set_rate(d->pcm, hw, rate, 0);
	} else {
		err = snd_pcm_hw_params_set_rate_near(d->pcm, hw, &rate, &dir);
	}
	if (err < 0) return dp_fail(d, DP_RATE, err);
	if ((err = snd_pcm_hw_params_set_period_time_near(d->pcm, hw, &period_us, &dir)) < 0) return dp_fail(d, DP_PERIOD, err);
	snd_pcm_uframes_t period = 0, buffer;
	unsigned int got_rate = 0;
	snd_pcm_hw_params_get_period_size(hw, &period, &dir);
	snd_pcm_hw_params_get_rate(hw, &got_rate, &dir);
	d->frame = ((snd_pcm_uframes_t)frame * got_rate + codec_rate - 1) / codec_rate + 1;
	buffer = period * periods;
	if (buffer < d->frame + 2 * period) buffer = d->frame + 2 * period;
	if ((err = snd_pcm_hw_params_set_buffer_size_near(d->pcm, hw, &buffer)) < 0) return dp_fail(d, DP_BUFFER, err);
	if ((err = snd_pcm_hw_params(d->pcm, hw)) < 0) return dp_fail(d, DP_HW, err);
	snd_pcm_hw_params_get_rate(hw, &d->rate, &dir);
	snd_pcm_hw_params_get_channels(hw, &d->channels);
	snd_pcm_hw_params_get_period_size(hw, &d->period, &dir);
	snd_pcm_hw_params_get_buffer_size(hw, &d->buffer);

	// Playback keeps at most a frame and a period queued after each write
	// (the target: its added delay), whatever the buffer. A prefill of
	// silence, the target less a frame, is queued first; the stream starts
	// when the first frame joins it (start threshold: the target), so no
	// underrun waits between opening and the first Write. A writer waits
	// until the queue is down to the prefill (avail_min).
	d->target = d->frame + d->period < d->buffer ? d->frame + d->period : d->buffer;
	d->prefill = d->target > d->frame ? d->target - d->frame : 1;
	snd_pcm_sw_params_alloca(&sw);
	if ((err = snd_pcm_sw_params_current(d->pcm, sw)) < 0) return dp_fail(d, DP_SW, err);
	if ((err = snd_pcm_sw_params_set_avail_min(d->pcm, sw, capture ? d->period : d->buffer - d->prefill)) < 0) return dp_fail(d, DP_SW, err);
	if ((err = snd_pcm_sw_params_set_start_threshold(d->pcm, sw, capture ? 1 : d->target)) < 0) return dp_fail(d, DP_SW, err);
	if ((err = snd_pcm_sw_params(d->pcm, sw)) < 0) return dp_fail(d, DP_SW, err);
	if ((err = snd_pcm_prepare(d->pcm)) < 0) return dp_fail(d, DP_PREPARE, err);

	snd_pcm_info_alloca(&info);
	d->card = snd_pcm_info(d->pcm, info) < 0 ? -1 : snd_pcm_info_get_card(info);
	d->silence = calloc(d->prefill * d->channels, sizeof(short));
	if (d->silence == NULL) return dp_fail(d, DP_START, -ENOMEM);
	return 0;
}

// dp_wait waits for the device to be ready: 0, or a negative errno
// (-ETIMEDOUT when it stays silent for max_ms, -ECANCELED once stopped).
static int dp_wait(dp_dev *d, int max_ms) {
	for (int waited = 0; waited < max_ms; waited += 20) {
		if (__atomic_load_n(&d->stop, __ATOMIC_RELAXED)) return -ECANCELED;
		int r = snd_pcm_wait(d->pcm, 20);
		if (r != 0) return r < 0 ? r : 0;
	}
	return -ETIMEDOUT;
}

// dp_recover brings the PCM back after an error of a transfer: an xrun
// (-EPIPE) or a suspend (-ESTRPIPE) is counted and recovered; capture is
// restarted, playback gets its prefill again (dp_prefill, by the caller)
// and starts with the next frame.
static int dp_recover(dp_dev *d, int err) {
	if (err == -EPIPE) dp_count(&d->xruns);
	if (err == -ESTRPIPE) dp_count(&d->suspends);
	int r = snd_pcm_recover(d->pcm, err, 1);
	if (r < 0) return r;
	dp_count(&d->recoveries);
	if (d->capture) {
		r = snd_pcm_start(d->pcm);
		return r == -EBADFD ? 0 : r; // already running (auto-start)
	}
	return 0;
}

// dp_prefill queues the playback's start-up silence.
static int dp_prefill(dp_dev *d) {
	snd_pcm_uframes_t done = 0;
	while (done < d->prefill) {
		snd_pcm_sframes_t n = snd_pcm_writei(d->pcm, d->silence + done * d->channels, d->prefill - done);
		if (n == -EAGAIN) { int w = dp_wait(d, 2000); if (w < 0) return w; continue; }
		if (n < 0) return (int)n;
		done += n;
	}
	return 0;
}

// dp_room is how many frames playback may write now without its queue
// passing the target (at most a frame), or -EAGAIN: wait. A stream not
// running yet (prefilled, waiting for its first frame) takes a frame.
static snd_pcm_sframes_t dp_room(dp_dev *d, snd_pcm_uframes_t want) {
	if (want > d->frame) want = d->frame;
	if (snd_pcm_state(d->pcm) != SND_PCM_STATE_RUNNING) return want;
	snd_pcm_sframes_t avail = snd_pcm_avail_update(d->pcm);
	if (avail < 0) return avail;
	snd_pcm_sframes_t queued = (snd_pcm_sframes_t)d->buffer - avail;
	if (queued + (snd_pcm_sframes_t)want > (snd_pcm_sframes_t)d->target) return queued <= 0 ? want : -EAGAIN;
	return want;
}

// dp_xfer reads or writes all frames, waiting while the device is not ready
// (playback: while its queue is above the target) and recovering from
// xruns on the way: 0, or a negative errno.
static int dp_xfer(dp_dev *d, short *buf, snd_pcm_uframes_t frames) {
	snd_pcm_uframes_t done = 0;
	while (done < frames) {
		if (__atomic_load_n(&d->stop, __ATOMIC_RELAXED)) return -ECANCELED;
		short *p = buf + done * d->channels;
		snd_pcm_sframes_t n;
		if (d->capture) {
			n = snd_pcm_readi(d->pcm, p, frames - done);
		} else {
			n = dp_room(d, frames - done);
			if (n > 0) n = snd_pcm_writei(d->pcm, p, n);
		}
		if (n == -EAGAIN) {
			int w = dp_wait(d, 2000);
			if (w == 0) continue;
			n = w;
		}
		if (n < 0) {
			if (n != -EPIPE && n != -ESTRPIPE && n != -EINTR) return (int)n;
			int r = dp_recover(d, (int)n);
			if (r < 0) return r;
			if (!d->capture && (r = dp_prefill(d)) < 0) return r;
			continue;
		}
		done += n;
	}
	return 0;
}

static void dp_close(dp_dev *d) {
	if (d->pcm) {
		if (!d->capture) snd_pcm_drop(d->pcm); // no drain: a hang-up is immediate
		snd_pcm_close(d->pcm);
		d->pcm = NULL;
	}
	free(d->silence);
	d->silence = NULL;
}
*/
import "C"

import (
	"sync"
	"syscall"
	"time"
	"unsafe"
)

var stageOp = map[int]string{
	stageOpen: "open", stageAccess: "set interleaved access", stageFormat: "set format S16_LE",
	stageChannels: "set channels", stageRate: "set rate", stagePeriod: "set period",
	stageBuffer: "set buffer", stageHW: "apply hardware parameters", stageSW: "apply software parameters",
	stagePrepare: "prepare", stageStart: "start",
}

// pcm is one open ALSA PCM as the C side holds it (in C memory, so a
// transfer in C may run while Close sets its stop flag).
type pcm struct {
	d *C.dp_dev
}

// pcmConfig is what openPCM asks of the device.
type pcmConfig struct {
	name     string
	capture  bool
	rate     int // the codec's rate: taken when the device has it
	fixed    int // the profile's rate for the device (0: none)
	channels int // 0: mono if the device has it
	period   time.Duration
	periods  int
	frame    int // the codec's frame in samples: the buffer holds at least one
}

var quiet sync.Once

// openPCM opens and configures a PCM. On failure it returns the step that
// failed, ALSA's (negative) error and alsa-lib's message, if any.
func openPCM(c pcmConfig) (*pcm, int, int, string) {
	quiet.Do(func() { C.dp_quiet() })
	d := (*C.dp_dev)(C.calloc(1, C.size_t(unsafe.Sizeof(C.dp_dev{}))))
	name := C.CString(c.name)
	defer C.free(unsafe.Pointer(name))
	capture := 0
	if c.capture {
		capture = 1
	}
	err := C.dp_open(d, name, C.int(capture), C.uint(c.rate), C.uint(c.fixed), C.uint(c.channels),
		C.uint(c.period/time.Microsecond), C.uint(c.periods), C.uint(c.frame))
	if err < 0 {
		stage, msg := int(d.stage), C.GoString(&d.msg[0])
		C.dp_close(d)
		C.free(unsafe.Pointer(d))
		return nil, stage, int(err), msg
	}
	return &pcm{d: d}, 0, 0, ""
}

func (p *pcm) rate() int          { return int(p.d.rate) }
func (p *pcm) channels() int      { return int(p.d.channels) }
func (p *pcm) periodFrames() int  { return int(p.d.period) }
func (p *pcm) bufferFrames() int  { return int(p.d.buffer) }
func (p *pcm) targetFrames() int  { return int(p.d.target) }
func (p *pcm) prefillFrames() int { return int(p.d.prefill) }
func (p *pcm) hasCard() bool      { return p.d.card >= 0 }

// prefill queues the playback's start-up silence: 0 or a negative errno.
func (p *pcm) prefill() int { return int(C.dp_prefill(p.d)) }

// xfer reads or writes frames (interleaved, len = frames × channels): 0
// or a negative errno (-ECANCELED after stop).
func (p *pcm) xfer(buf []int16) int {
	frames := len(buf) / p.channels()
	if frames == 0 {
		return 0
	}
	return int(C.dp_xfer(p.d, (*C.short)(unsafe.Pointer(&buf[0])), C.snd_pcm_uframes_t(frames)))
}

// recover handles a transfer's error as dp_xfer does (counted).
func (p *pcm) recover(errno int) int { return int(C.dp_recover(p.d, C.int(errno))) }

// stop makes a transfer in progress, and every later one, return
// -ECANCELED (within one 20 ms wait); safe while a transfer runs.
func (p *pcm) stop() { C.dp_stop(p.d) }

// close closes the PCM; no transfer may be running.
func (p *pcm) close() {
	C.dp_close(p.d)
	C.free(unsafe.Pointer(p.d))
	p.d = nil
}

func (p *pcm) stats() (xruns, suspends, recoveries int64) {
	return int64(C.dp_load(&p.d.xruns)), int64(C.dp_load(&p.d.suspends)), int64(C.dp_load(&p.d.recoveries))
}

// strerror is ALSA's text for a negative error.
func strerror(errno int) string { return C.GoString(C.snd_strerror(C.int(errno))) }

// Errnos the driver tells apart.
var (
	errEPIPE     = -int(syscall.EPIPE)
	errECANCELED = -int(syscall.ECANCELED)
	errETIMEDOUT = -int(syscall.ETIMEDOUT)
)
