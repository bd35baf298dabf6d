// Package alsa is the phone's sound through alsa-lib (cgo, #cgo pkg-config:
// alsa): a capture and a playback PCM per audio route (handset, speaker,
// headset) as the board profile names them, implementing hal.Audio.
//
// Each device is opened non-blocking as S16_LE interleaved, at the codec's
// rate when the device has it, else at the device's nearest (or the
// profile's) rate with a linear resampler in the driver (exact phase, no
// allocation); a card without mono is down- or up-mixed. The period is
// Config.Period (5 ms and up), the buffer Config.Periods of them (at least
// a codec frame and two periods). Playback keeps at most a frame and a
// period queued after each write, whatever the buffer, so it adds that much
// delay; it starts on a prefill of silence (a period). Xruns and suspends are
// recovered with snd_pcm_recover and counted (Stats). Failures are *Error,
// naming the PCM and route with ALSA's reason and the contact center SDK's
// code: -1302 microphone start, -1319 microphone busy, -1317 no permission,
// -1318/-1322 parameters refused, -1306 rate refused, -1321 speaker start.
//
// A PCM with no sound card behind it (alsa-lib's file and null plugins,
// as in CI) has no clock: the driver paces it by the wall clock so a media
// loop clocked by its device runs in real time on it, as on a card.
//
// Built without cgo, the package holds only its resampler; the firmware
// then runs without ALSA (calls report -1302/-1321).
package alsa
